# %% [markdown]
# ## Step 6 — Fine-tune BERT
# Goal: fine-tune `cfg.model_name` (bert-base-uncased in Colab; a tiny local BERT in smoke mode) to
# predict the category from the **title and description as a tokenizer pair**, with the Hugging Face
# `Trainer` (transformers 5 API), and save the best model + tokenizer to `models/bert_final/`.
#
# - Defaults are modest on purpose: `num_train_epochs=3`, `per_device_train_batch_size=16` on
#   `cfg.finetune_train_rows` rows. With an A100/L4 raise the batch to 32/64 and the rows/epochs in the
#   parameters cell (e.g. `cfg.per_device_train_batch_size = 32`).
# - Mixed precision follows the GPU: fp16 on a T4 (compute capability 7.5), bf16 from 8.0.
# - Checkpoints go to `models/bert_checkpoints/` on Drive: if the session disconnects, run this cell again
#   and training resumes from the last complete checkpoint.
# - Fallbacks, each recorded in `NOTES.md`: out of memory → halve the batch (double gradient
#   accumulation) → `distilbert-base-uncased` → CPU.
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
# Times `cfg.precheck_steps` real training steps and estimates the time per epoch and the peak GPU
# memory. Read the estimate, then run the next cells to train (nothing here blocks the notebook).

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
{k: FINETUNE.get(k) for k in ("model_name", "device", "global_step", "resumed_from", "val_accuracy",
                              "val_macro_f1", "train_seconds", "fallbacks", "final_dir", "skipped")}

# %% [markdown]
# ### The saved model answers with category names
# `transformers.pipeline` loads `models/bert_final/` directly; `id2label` is stored in its config.

# %%
from transformers import pipeline
bert_pipe = pipeline("text-classification", model=str(paths.bert_final), top_k=3)
bert_pipe("Stainless steel chef knife, 8 inch")
