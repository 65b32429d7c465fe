"""The `nyquestro-tui` command."""

import argparse
import os
import sys

from nyquestro.control import DEFAULT_ADDRESS, TOKEN_VARIABLE
from nyquestro.tui.app import NyquestroApp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nyquestro-tui",
        description="watch and steer a running Nyquestro venue over its control plane",
    )
    parser.add_argument(
        "--connect",
        default=DEFAULT_ADDRESS,
        metavar="HOST:PORT",
        help=f"the venue's control plane ({DEFAULT_ADDRESS}, the demo venue's)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"a [control.tokens] token (default: ${TOKEN_VARIABLE}); one without actions "
        "= true may watch but not act",
    )
    args = parser.parse_args(argv)
    if not args.token:
        print(
            f"nyquestro-tui: --token (or ${TOKEN_VARIABLE}) is needed: a token from the "
            "venue's [control.tokens]; the demo venue's are demo-operator and demo-viewer",
            file=sys.stderr,
        )
        return 2
    NyquestroApp(args.connect, args.token).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
