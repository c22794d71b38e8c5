# umqtt.robust as the ESP32 firmware freezes it, written from its documented API (micropython-lib's umqtt.robust
# README): umqtt.simple's client that reconnects whenever the connection fails, and retries what failed.
import time
from umqtt import simple


class MQTTClient(simple.MQTTClient):
    DELAY = 2
    DEBUG = False

    def delay(self, i):
        time.sleep(self.DELAY)

    def log(self, in_reconnect, e):
        if self.DEBUG:
            print('mqtt reconnect: %r' % e if in_reconnect else 'mqtt: %r' % e)

    def reconnect(self):
        i = 0
        while True:
            try:
                if self.sock:
                    self.sock.close()
                return super().connect(False)
            except OSError as e:
                self.log(True, e)
                i += 1
                self.delay(i)

    def _retry(self, op, *args):
        while True:
            try:
                return op(self, *args)
            except OSError as e:
                self.log(False, e)
            self.reconnect()

    def publish(self, topic, msg, retain=False, qos=0):
        return self._retry(simple.MQTTClient.publish, topic, msg, retain, qos)

    def wait_msg(self):
        return self._retry(simple.MQTTClient.wait_msg)

    def check_msg(self, attempts=2):
        while attempts:
            self.sock.setblocking(False)
            try:
                return simple.MQTTClient.wait_msg(self)
            except OSError as e:
                if e.errno == 11:
                    return None
                self.log(False, e)
            finally:
                self.sock.setblocking(True)
            self.reconnect()
            attempts -= 1

    def subscribe(self, topic, qos=0):
        return self._retry(simple.MQTTClient.subscribe, topic, qos)
