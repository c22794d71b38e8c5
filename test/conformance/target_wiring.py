# Wiring of the virtual board for MicroPython's hardware tests (run-tests.py --target-wiring): every UART of the
# virtual board is looped back on itself, so the pins only need to be valid ones.
uart_loopback_args = (1,)
uart_loopback_kwargs = {"tx": 4, "rx": 5}
