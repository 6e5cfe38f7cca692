# %% tags=["parameters","quickstart"]
RUN_MODE = "full"  # "quickstart" | "smoke" (tiny sizes, CI) | "full"
DATA_PATH = ""  # CSV, zip or folder; empty = PROJECT_ROOT/data/raw, else the built-in demo catalogue
SAMPLE_SIZE = 10000  # rows used by the Quick Start
PROJECT_ROOT_OVERRIDE = ""  # outside Colab: where artifacts go (default ./product_categorization_project)
FORCE = False  # True = redo steps whose complete artifacts already exist
MODEL_NAME = ""  # empty = Config default (bert-base-uncased)
