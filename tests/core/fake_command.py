"""The run function of the fake paper's `fake-echo` command (imported only when the command runs)."""

from paperzoo.core.errors import UserError


def echo(args) -> int:
    if args.word == "bad":
        raise UserError("a bad word")
    print(" ".join([args.word] * args.times))
    return 3 if args.times == 3 else 0
