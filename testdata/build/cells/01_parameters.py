
# %% tags=["parameters", "quickstart"]
RUN_MODE = "quickstart"
DATA_PATH = ""


# %% tags=["quickstart"]
import os
SRC_DIR = os.path.join(os.environ.get("PROJECT_ROOT", "/tmp/pc"), "src")
%pip --version
files = !ls
print(RUN_MODE, len(files))
