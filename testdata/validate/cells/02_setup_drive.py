# %% [markdown]
# ## Mount Google Drive

# %%
from google.colab import drive
drive.mount('/content/drive', force_remount=True)
PROJECT_ROOT = "/content/drive/MyDrive/product_categorization_project"
SRC_DIR = PROJECT_ROOT + "/src"
