import _hw


class DHTBase:
    def __init__(self, pin):
        self.pin = pin
        self._t = 0
        self._h = 0

    def measure(self):
        r = _hw.dht(self.pin._id)
        if not r:
            raise OSError(110)  # ETIMEDOUT: nothing answered on the pin
        t, h = r.split(',')
        self._t = float(t)
        self._h = float(h)


class DHT11(DHTBase):
    def humidity(self):
        return int(self._h)

    def temperature(self):
        return int(self._t)


class DHT22(DHTBase):
    def humidity(self):
        return round(self._h * 10) / 10

    def temperature(self):
        return round(self._t * 10) / 10
