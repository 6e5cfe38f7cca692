# %% [markdown]
# ## Step 6 — Fine-tune BERT
# Goal: fine-tune `cfg.model_name` (bert-base-uncased in Colab; a tiny local BERT in smoke mode) to
# predict the category with the Hugging Face `Trainer` (transformers 5 API), and save the best model +
# tokenizer to `models/bert_final/`. The model reads the **title and description as a tokenizer pair**
# when the training data has descriptions, else the title alone; that choice is stored in the model's
# config (`text_pair`) and serving (`src/inference.py`, the API) follows it.
#
# - Defaults are the seed's: `num_train_epochs=3`, `per_device_train_batch_size=16` on
#   `cfg.finetune_train_rows` rows, wherever they fit the **time budget** (`TIME_BUDGET_MINUTES` in the
#   parameters cell; 0 = 180 min in full mode). The pre-check below measures this runtime's speed and
#   plans Step 6's share of the budget: validation rows first, then epochs (down to 1), then training rows.
#   A model that cannot see every training row once in that share gives way to a faster one
#   (`distilbert-base-uncased`, then `cfg.cpu_model_name`, MiniLM-L6, on CPU). `NOTES.md` [time budget]
#   lists what was cut and the measured rates. With an A100/L4 raise the batch to 32/64
#   (e.g. `cfg.per_device_train_batch_size = 32`), and the budget for more rows and epochs.
# - The recipe for small catalogues: the new head starts as a logistic regression on the frozen
#   model's features (LP-FT, `cfg.finetune_linear_probe`; at most `cfg.finetune_probe_rows` rows and a
#   tenth of Step 6's time), then learns `cfg.finetune_head_lr_multiplier` (20) times faster than the
#   pretrained body, with label smoothing 0.1, early stopping on the validation `cfg.selection_metric`
#   (accuracy) and the best epoch kept. Set `cfg.finetune_linear_probe = False` for a plain random head
#   (smoke mode does: its tiny BERT at learning rate 1e-3 collapses to one class from a fitted head).
#   `cfg.finetune_pooling = "mean"` puts the head on the masked token mean, the pooling of
#   sentence-transformers checkpoints such as MiniLM, instead of BERT's [CLS] pooler; on the README's
#   random10k bench it did not beat the pooler on validation, so "cls" is the default.
# - Mixed precision follows the GPU: fp16 on a T4 (compute capability 7.5), bf16 from 8.0.
# - Checkpoints go to `models/bert_checkpoints/` on Drive with a fingerprint (data, label map, training
#   config): if the session disconnects, run this cell again and training resumes from the last complete
#   checkpoint, with the plan it had. If the data, labels or config changed meanwhile it starts fresh
#   and `NOTES.md` says why.
# - Fallbacks, each recorded in `NOTES.md`: out of memory → halve the batch (double gradient
#   accumulation) → `distilbert-base-uncased` from the requested batch again → CPU.
# - Training curves: `experiments/logs/bert/` (TensorBoard).

# %% [markdown]
# ### Which device will train?
# `torch.cuda.is_available()`, the GPU's name, memory and compute capability, and the precision chosen.

# %%
import device
DEVICE_INFO = device.run(cfg, paths)
DEVICE_INFO

# %% [markdown]
# ### Pre-check before the long run
# Times `cfg.precheck_steps` real training steps and one evaluation batch, estimates the time per epoch
# and the peak GPU memory, and plans the run for the time budget (`plan`: rows × epochs, what was cut).
# Read it, then run the next cells to train (nothing here blocks the notebook; training starts from
# the model and settings the pre-check settled on).

# %%
import finetune
if finetune.is_final_complete(paths.bert_final) and not cfg.force:
    PRECHECK = "models/bert_final is complete: pre-check skipped (set FORCE=True to retrain)."
else:
    PRECHECK = finetune.precheck(cfg, paths)
PRECHECK

# %% [markdown]
# ### TensorBoard
# In Colab this opens TensorBoard inline on `experiments/logs/bert/`; elsewhere it prints the command.

# %%
from project import in_colab
if in_colab():
    %load_ext tensorboard
    %tensorboard --logdir "{paths.bert_logs}"
else:
    print(f"TensorBoard: run `tensorboard --logdir {paths.bert_logs}` in a terminal (inline view needs Colab).")

# %% [markdown]
# ### Train (resumes automatically after an interruption)

# %%
FINETUNE = finetune.run(cfg, paths)
{k: FINETUNE.get(k) for k in ("model_name", "device", "n_train", "num_train_epochs", "text_pair", "global_step",
                              "resumed_from", "val_accuracy", "val_macro_f1", "train_seconds", "fallbacks",
                              "time_budget", "final_dir", "skipped")}

# %% [markdown]
# ### The saved model answers with category names
# `transformers.pipeline` loads `models/bert_final/` directly; `id2label` is stored in its config. A model
# trained with `cfg.finetune_pooling = "mean"` has its own model type, which `mean_pooling.register()` makes known.

# %%
import mean_pooling
from transformers import pipeline
mean_pooling.register()
bert_pipe = pipeline("text-classification", model=str(paths.bert_final), top_k=3)
bert_pipe("Stainless steel chef knife, 8 inch")
