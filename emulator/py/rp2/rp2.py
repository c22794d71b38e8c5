import _hw


def bootsel_button():
    return _hw.bootsel()


def country(code=None):
    return None
