"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its virtual environments without pip and fetches get-pip.py from a host that is not
reachable from every machine. This script gives the new environment pip from the standard library's ensurepip
(as a child process, because ensurepip in-process points PIP_CONFIG_FILE at /dev/null and pip would then lose
the machine's certificate settings) and then installs the pip version ansible-test asked for.
"""

import subprocess
import sys


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args)


if __name__ == "__main__":
    main()
