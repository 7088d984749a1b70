"""python -m services.cli: the opsuite command."""

from services.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
