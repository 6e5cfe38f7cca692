"""Colab's Google Drive mount (google/colab/drive.py in colabtools).

`mount` keeps the real checks, messages and results: the user's Drive appears as
`<mountpoint>/MyDrive` (here a symlink to the frontend state's "drive" folder, so what a run
writes survives into the next "session", as on Drive), a mountpoint with files of its own or
one that is a symlink is refused with the real ValueError, and "Mounted at ..." is printed.
"""
import os as _os

from google.colab import _frontend, _message


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    """Mount your Google Drive at the specified mountpoint path."""
    return _mount(mountpoint, force_remount=force_remount, timeout_ms=timeout_ms, ephemeral=True,
                  readonly=readonly)


def _mount(mountpoint, force_remount=False, timeout_ms=120000, ephemeral=False, readonly=False):
    if " " in mountpoint:
        raise ValueError("Mountpoint must not contain a space.")
    if ephemeral:
        _message.blocking_request("request_auth", request={"authType": "dfs_ephemeral"},
                                  timeout_sec=int(timeout_ms / 1000))
    mountpoint = _os.path.expanduser(mountpoint)
    # The real check, verbatim: it looks for "My Drive", which today's mounts no longer show,
    # so every call remounts.
    already_mounted = _os.path.isdir(_os.path.join(mountpoint, "My Drive"))
    if not force_remount and already_mounted:
        print(f"Drive already mounted at {mountpoint}; to attempt to forcibly "
              f'remount, call drive.mount("{mountpoint}", force_remount=True).')
        return
    _unmount(mountpoint)
    if _os.path.islink(mountpoint):
        raise ValueError("Mountpoint must not be a symlink")
    if _os.path.isdir(mountpoint) and _os.listdir(mountpoint):
        raise ValueError("Mountpoint must not already contain files")
    if not _os.path.isdir(mountpoint) and _os.path.exists(mountpoint):
        raise ValueError("Mountpoint must either be a directory or not exist")
    normed = _os.path.normpath(mountpoint)
    if "/" in normed and not _os.path.exists(_os.path.dirname(normed)):
        raise ValueError("Mountpoint must be in a directory that exists")
    users_drive = _frontend.state()["drive"]
    _os.makedirs(users_drive, exist_ok=True)
    _os.makedirs(mountpoint, exist_ok=True)
    _os.symlink(users_drive, _os.path.join(mountpoint, "MyDrive"), target_is_directory=True)
    # The first thing the notebook does in Colab, so the test can see what the kernel started with.
    _frontend.log("mount", mountpoint=mountpoint, force_remount=force_remount, readonly=readonly,
                  env={k: _os.environ.get(k) for k in ("KERAS_BACKEND", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")})
    print(f"Mounted at {mountpoint}")


def _unmount(mountpoint):
    """What `umount -f` does to an earlier mount of ours: the Drive disappears from the mountpoint."""
    link = _os.path.join(mountpoint, "MyDrive")
    if _os.path.islink(link) and _os.path.realpath(link) == _os.path.realpath(_frontend.state()["drive"]):
        _os.unlink(link)

