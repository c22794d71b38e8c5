# boardctl test's driver: runs the unittest.TestCase classes of one test file and prints one event line per
# test (MARK + JSON), so the host gets each result, with its traceback, as it happens. The host appends the call
# bt_run(MINI, SOURCE, PATH, MODULE) with the file's text: nothing is written to the board's filesystem.
import sys
import io
import json
import time
import gc

MARK = '\x1eBT'


def bt_event(**fields):
    print(MARK + json.dumps(fields))


def bt_unittest(mini):
    # The firmware's unittest when it has one, else ours for this run only.
    try:
        import unittest

        return unittest
    except ImportError:
        pass
    ns = {'__name__': 'unittest'}
    exec(mini, ns)

    class Module:
        pass

    mod = Module()
    for k in ns:
        setattr(mod, k, ns[k])
    sys.modules['unittest'] = mod
    return mod


def bt_traceback(e, named):
    buf = io.StringIO()
    sys.print_exception(e, buf)
    lines = buf.getvalue().rstrip().split('\n')
    if named:
        # The driver's own frames (compiled as <stdin>/<string>) say nothing about the test.
        lines = [l for l in lines if not l.startswith('  File "<')]
    return '\n'.join(lines)


def bt_outcome(ut, e, named):
    skip = getattr(ut, 'SkipTest', None)
    if skip is not None and isinstance(e, skip):
        return 'skip', str(e), None
    text = bt_traceback(e, named)
    if isinstance(e, AssertionError):
        return 'fail', str(e) or 'AssertionError', text
    return 'error', type(e).__name__ + (': ' + str(e) if str(e) else ''), text


def bt_case(ut, cls, name, named):
    t0 = time.ticks_ms()
    status, message, tb = 'pass', None, None
    try:
        try:
            case = cls(name)
        except TypeError:
            case = cls()
        case.setUp()
        try:
            getattr(case, name)()
        finally:
            case.tearDown()
    except Exception as e:
        status, message, tb = bt_outcome(ut, e, named)
    bt_event(e='case', cls=cls.__name__, name=name, status=status, ms=time.ticks_diff(time.ticks_ms(), t0), message=message, traceback=tb)
    gc.collect()


def bt_fixture(ut, cls, which, named):
    # setUpClass/tearDownClass: a failure is an error of the class, reported as a case named after the fixture.
    fixture = getattr(cls, which, None)
    if fixture is None:
        return True
    try:
        fixture()
        return True
    except Exception as e:
        status, message, tb = bt_outcome(ut, e, named)
        bt_event(e='case', cls=cls.__name__, name=which, status='error' if status == 'fail' else status, ms=0, message=message, traceback=tb)
        return False


def bt_run(mini, source, path, module):
    ut = bt_unittest(mini)
    named = True
    try:
        code = compile(source, path, 'exec')
    except NameError:
        # Firmware without compile(): the file's frames show as <string>.
        code, named = source, False
    except SyntaxError as e:
        bt_event(e='load', message='SyntaxError: ' + str(e), traceback=bt_traceback(e, False))
        return
    ns = {'__name__': module, '__file__': path}
    try:
        exec(code, ns)
    except Exception as e:
        status, message, tb = bt_outcome(ut, e, named)
        bt_event(e='load', message=message, traceback=tb)
        return
    for cname in sorted(ns):
        cls = ns[cname]
        if not isinstance(cls, type) or cls is ut.TestCase or not issubclass(cls, ut.TestCase):
            continue
        if bt_fixture(ut, cls, 'setUpClass', named):
            for name in sorted(n for n in dir(cls) if n.startswith('test') and callable(getattr(cls, n))):
                bt_case(ut, cls, name, named)
            bt_fixture(ut, cls, 'tearDownClass', named)
    bt_event(e='end')
