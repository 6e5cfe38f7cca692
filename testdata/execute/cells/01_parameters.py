# %% tags=["parameters", "quickstart"]
RUN_MODE = "full"
DATA_PATH = ""
SAMPLE_SIZE = 0
PROJECT_ROOT_OVERRIDE = ""
MODEL_NAME = "default-model"
DRIVE_MOUNT = "/content/drive"
