"""`python -m celerytui`: the same command as the `celerytui` console script."""

from celerytui.cli import main

if __name__ == "__main__":
    main(prog_name="celerytui")
