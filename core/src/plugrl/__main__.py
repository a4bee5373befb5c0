"""``python -m plugrl``: the same as the ``plugrl`` command."""

from plugrl.cli.main import main

if __name__ == "__main__":
    main()
