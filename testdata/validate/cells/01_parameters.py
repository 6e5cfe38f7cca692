# %% tags=["parameters", "quickstart"]
RUN_MODE = "quickstart"
DATA_PATH = ""
