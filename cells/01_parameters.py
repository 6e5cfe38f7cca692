# %% tags=["parameters","quickstart"]
RUN_MODE = "full"  # "quickstart" | "smoke" (tiny sizes, CI) | "full"
DATA_PATH = ""  # CSV, zip, folder, ZIP!MEMBER.csv, https:// URL or Kaggle handle owner/name; empty = PROJECT_ROOT/data/raw, else the built-in demo catalogue
SAMPLE_SIZE = 10000  # rows used by the Quick Start
PROJECT_ROOT_OVERRIDE = ""  # outside Colab: where artifacts go (default ./product_categorization_project)
PARENT_PROJECT_ROOT = ""  # a preview's parent project: its data/raw is read (never written) when PROJECT_ROOT's has none
DRIVE_MOUNT = "/content/drive"  # in Colab: where Drive is mounted; PROJECT_ROOT is DRIVE_MOUNT/MyDrive/product_categorization_project
FORCE = False  # True = redo steps whose complete artifacts already exist
MODEL_NAME = ""  # empty = Config default (bert-base-uncased)
TIME_BUDGET_MINUTES = 0  # minutes the whole run may take; 0 = the mode's default (full 180, smoke 20); heavy steps are sized to fit
