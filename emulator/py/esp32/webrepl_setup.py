# webrepl_setup as the ESP32 firmware freezes it (docs.micropython.org "WebREPL"): an interactive script, run
# by importing it, that enables or disables the WebREPL at boot (boot.py) and sets its password (webrepl_cfg.py).
import machine

_BOOT = 'boot.py'
_CFG = 'webrepl_cfg.py'
_LINES = ('import webrepl\n', 'webrepl.start()\n')


def _boot_lines():
    try:
        with open(_BOOT) as f:
            return f.readlines()
    except OSError:
        return []


def _enabled():
    return all(line in _boot_lines() for line in _LINES)


def _set_boot(enable):
    lines = [line for line in _boot_lines() if line not in _LINES]
    if enable:
        lines.extend(_LINES)
    with open(_BOOT, 'w') as f:
        f.write(''.join(lines))


def _ask_password():
    while True:
        pw = input('New password (4-9 chars): ')
        if not 4 <= len(pw) <= 9:
            print('Invalid password length')
            continue
        if input('Confirm password: ') == pw:
            return pw
        print('Passwords do not match')


def main():
    print('WebREPL daemon auto-start status:', 'enabled' if _enabled() else 'disabled')
    print('\nWould you like to (E)nable or (D)isable it running on boot?')
    print('(Empty line to quit)')
    choice = input('> ').strip().upper()
    if choice not in ('E', 'D'):
        return
    enable = choice == 'E'
    if enable:
        pw = _ask_password()
        with open(_CFG, 'w') as f:
            f.write('PASS = %r\n' % pw)
    if enable == _enabled():
        print('No further action required')
        return
    _set_boot(enable)
    print('Changes will be activated after reboot')
    if input('Would you like to reboot now? (y/n) ').strip().lower() == 'y':
        machine.reset()


main()
