"""A stand-in for Colab's own `google.colab` package, so the notebook takes its Colab code path
outside Colab (tests/test_colab_run.py).

In Colab, `google.colab` (googlecolab/colabtools) is an installed package and `google` is a
namespace shared with protobuf and google-auth; this directory is put on sys.path by a `.pth`
file in the Colab-faithful virtualenv, as one more portion of that namespace. The modules keep
the real signatures, return values, printed lines and exceptions of the functions the notebook
calls: `drive.mount`, `files.upload`, `userdata.get` and `_message.blocking_request`. What the
browser would answer (the files a user picks, the notebook's JSON, the secrets) comes from the
frontend state file described in `_frontend`.
"""
from google.colab import _message, drive, errors, files, userdata

__all__ = ["drive", "files", "userdata"]

__version__ = "0.0.1a2"
