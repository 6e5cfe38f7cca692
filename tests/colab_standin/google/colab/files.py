"""Colab's file upload (google/colab/files.py in colabtools).

`upload` keeps the real behaviour after the browser has sent the files: each file is written
to the working directory (or target_dir) under a name that does not exist yet ("x (1).csv"),
"Saving ... to ..." is printed, and {local filename: contents} is returned; {} when the user
cancels the widget.
"""
import os as _os

from google.colab import _frontend


def upload(target_dir=""):
    """Render a widget to upload local (to the browser) files to the kernel.

    Blocks until the files are available.

    Returns:
      A map of the form {<filename>: <file contents>} for all uploaded files.
    """
    uploaded_files = _upload_files(multiple=True)
    local_filenames = dict()
    uploaded_files_with_updated_names = dict()
    if target_dir:
        _os.makedirs(target_dir, exist_ok=True)
    for filename, data in uploaded_files.items():
        complete_filename = _os.path.join(target_dir, filename)
        local_filename = local_filenames.get(complete_filename)
        if not local_filename:
            local_filename = _get_unique_filename(complete_filename)
            local_filenames[complete_filename] = local_filename
            print(f"Saving {filename} to {local_filename}")
        with open(local_filename, "ab") as f:
            f.write(data)
        uploaded_files_with_updated_names[local_filename] = data
    return uploaded_files_with_updated_names


def _upload_files(multiple):
    """What the browser sends: {basename: bytes} of the files the user picked."""
    picked = _frontend.next_upload()
    _frontend.log("upload", files=[_os.path.basename(p) for p in picked], multiple=multiple)
    files = {}
    for path in picked:
        with open(path, "rb") as fh:
            files[_os.path.basename(path)] = fh.read()
    return files


def _get_unique_filename(filename):
    if not _os.path.lexists(filename):
        return filename
    counter = 1
    while True:
        path, ext = _os.path.splitext(filename)
        new_filename = f"{path} ({counter}){ext}"
        if not _os.path.lexists(new_filename):
            return new_filename
        counter += 1
