"""``python -m intake_webcoos.server``: run the stand-in in the foreground."""

from intake_webcoos.server.command import serve

if __name__ == "__main__":
    serve(prog_name="python -m intake_webcoos.server")
