// Board-side Python the machine tests share: errors(*fs) calls each lambda and prints 'ok' or its exception's
// type and message, a line each, so one run checks a list of the port's errors.
export const PY_ERRORS = `
def errors(*fs):
    for f in fs:
        try:
            f()
            print('ok')
        except Exception as e:
            print(type(e).__name__, e)
`;
