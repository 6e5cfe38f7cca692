# %% [markdown] tags=["quickstart"]
# ## Colab runtime & Google Drive
# Mounts your Drive and sets `PROJECT_ROOT`, the one folder every artifact goes to. Outside Colab
# (local Jupyter, CI) the same tree is created under `PROJECT_ROOT_OVERRIDE`, `$PROJECT_ROOT`, or
# `./product_categorization_project`.

# %% tags=["quickstart"]
import os
import sys

try:
    import google.colab  # noqa: F401

    IN_COLAB = True
except ImportError:
    IN_COLAB = False

if IN_COLAB:
    from google.colab import drive
    drive.mount(DRIVE_MOUNT, force_remount=True)  # DRIVE_MOUNT = '/content/drive'
    PROJECT_ROOT = f"{DRIVE_MOUNT}/MyDrive/product_categorization_project"
    if PROJECT_ROOT_OVERRIDE:
        PROJECT_ROOT = PROJECT_ROOT_OVERRIDE
else:
    PROJECT_ROOT = os.path.abspath(
        PROJECT_ROOT_OVERRIDE or os.environ.get("PROJECT_ROOT", "") or "product_categorization_project"
    )

# src/ must exist before the next cells write the project's modules into it; the full tree
# (data/, models/, results/, ...) is created by project.make_tree when cfg is built.
SRC_DIR = os.path.join(PROJECT_ROOT, "src")
os.makedirs(os.path.join(SRC_DIR, "api"), exist_ok=True)
print(f"IN_COLAB={IN_COLAB}  PROJECT_ROOT={PROJECT_ROOT}")
