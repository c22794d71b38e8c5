# boardctl's minimal unittest, for firmware without one: the TestCase assertions, skips and fixtures that test
# files use. `boardctl test` installs it as `unittest` for one run (nothing is written to the board) and drives
# the tests itself (bt_driver.py), so main() does nothing here.


class SkipTest(Exception):
    pass


def _fail(msg, default):
    raise AssertionError(default if msg is None else msg)


class _Raises:
    def __init__(self, case, exc):
        self.case = case
        self.expected = exc
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            _fail(None, '%s not raised' % getattr(self.expected, '__name__', self.expected))
        if not issubclass(kind, self.expected):
            return False
        self.exception = value
        return True


class _SubTest:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return False


class TestCase:
    def __init__(self, name='runTest'):
        self._name = name

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        pass

    def tearDown(self):
        pass

    def skipTest(self, reason):
        raise SkipTest(reason)

    def fail(self, msg=None):
        _fail(msg, 'failed')

    def subTest(self, msg=None, **params):
        return _SubTest()

    def assertEqual(self, a, b, msg=None):
        if not a == b:
            _fail(msg, '%r != %r' % (a, b))

    def assertNotEqual(self, a, b, msg=None):
        if not a != b:
            _fail(msg, '%r == %r' % (a, b))

    def assertTrue(self, x, msg=None):
        if not x:
            _fail(msg, '%r is not true' % (x,))

    def assertFalse(self, x, msg=None):
        if x:
            _fail(msg, '%r is not false' % (x,))

    def assertIs(self, a, b, msg=None):
        if a is not b:
            _fail(msg, '%r is not %r' % (a, b))

    def assertIsNot(self, a, b, msg=None):
        if a is b:
            _fail(msg, 'unexpectedly identical: %r' % (a,))

    def assertIsNone(self, x, msg=None):
        self.assertIs(x, None, msg)

    def assertIsNotNone(self, x, msg=None):
        self.assertIsNot(x, None, msg)

    def assertIn(self, a, b, msg=None):
        if a not in b:
            _fail(msg, '%r not found in %r' % (a, b))

    def assertNotIn(self, a, b, msg=None):
        if a in b:
            _fail(msg, '%r unexpectedly found in %r' % (a, b))

    def assertIsInstance(self, x, cls, msg=None):
        if not isinstance(x, cls):
            _fail(msg, '%r is not an instance of %r' % (x, cls))

    def assertNotIsInstance(self, x, cls, msg=None):
        if isinstance(x, cls):
            _fail(msg, '%r is an instance of %r' % (x, cls))

    def assertGreater(self, a, b, msg=None):
        if not a > b:
            _fail(msg, '%r not greater than %r' % (a, b))

    def assertGreaterEqual(self, a, b, msg=None):
        if not a >= b:
            _fail(msg, '%r not greater than or equal to %r' % (a, b))

    def assertLess(self, a, b, msg=None):
        if not a < b:
            _fail(msg, '%r not less than %r' % (a, b))

    def assertLessEqual(self, a, b, msg=None):
        if not a <= b:
            _fail(msg, '%r not less than or equal to %r' % (a, b))

    def assertAlmostEqual(self, a, b, places=7, msg=None, delta=None):
        if a == b:
            return
        if delta is not None:
            if abs(a - b) <= delta:
                return
            _fail(msg, '%r != %r within %r delta' % (a, b, delta))
        if round(abs(a - b), places) != 0:
            _fail(msg, '%r != %r within %r places' % (a, b, places))

    def assertNotAlmostEqual(self, a, b, places=7, msg=None, delta=None):
        near = abs(a - b) <= delta if delta is not None else round(abs(a - b), places) == 0
        if near:
            _fail(msg, '%r == %r within tolerance' % (a, b))

    def assertRaises(self, exc, func=None, *args, **kwargs):
        ctx = _Raises(self, exc)
        if func is None:
            return ctx
        with ctx:
            func(*args, **kwargs)


def skip(reason):
    def wrap(f):
        def skipped(*args, **kwargs):
            raise SkipTest(reason)

        return skipped

    return wrap


def skipIf(cond, reason):
    return skip(reason) if cond else (lambda f: f)


def skipUnless(cond, reason):
    return skipIf(not cond, reason)


def expectedFailure(f):
    def expecting(*args, **kwargs):
        try:
            f(*args, **kwargs)
        except AssertionError:
            return
        raise AssertionError('unexpected success')

    return expecting


def main(*args, **kwargs):
    pass
