"""Step 6's optional head on the token mean (cfg.finetune_pooling = "mean") instead of BERT's [CLS] pooler.

A sentence-transformers model (all-MiniLM-L6-v2, the CPU fine-tuning model) represents a text by
the attention-masked mean of its last layer; `AutoModelForSequenceClassification` reads BERT's
[CLS] pooler instead, which such a checkpoint carries over from pre-training.
MeanPooledBertForSequenceClassification is BERT's classifier with the masked mean in place of the
pooler. Measured with bench/finetune_minilm.py on asaniczka random10k (README, "Fine-tuning
recipe"), the mean did not beat the pooler on the validation slice, so "cls" stays the default.

A model trained on the mean is saved with model_type "bert-mean-pooled". `register()` (called by
`load_classifier`, src/inference.py and the API) teaches the transformers Auto classes and
`pipeline("text-classification")` that type; a Python without it gets transformers' "unrecognized
model type" error rather than a [CLS] classifier silently reading weights trained on the mean.

    import mean_pooling
    mean_pooling.register()
    model = AutoModelForSequenceClassification.from_pretrained("models/bert_final")
"""
from __future__ import annotations

from typing import Optional

MODEL_TYPE = "bert-mean-pooled"

_CLASSES: Optional[tuple] = None


def load_classifier(name_or_path: str, pooling: str, **config_overrides):
    """`name_or_path` with a sequence-classification head on `pooling` (cfg.finetune_pooling): "mean" puts
    a BERT-architecture checkpoint's head on the masked token mean; any other architecture (a fallback
    such as distilbert-base-uncased) keeps its own head, with a message saying so. A model fine-tuned
    on the mean before loads as such whatever `pooling` says; pooling_of(model) tells what was loaded."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    register()
    if pooling == "mean":
        config = AutoConfig.from_pretrained(name_or_path)
        if config.model_type in ("bert", MODEL_TYPE):
            config_cls, model_cls = classes()
            base = {k: v for k, v in config.to_dict().items() if k != "model_type"}
            return model_cls.from_pretrained(name_or_path, config=config_cls(**{**base, **config_overrides}))
        print(f"finetune_pooling='mean' applies to BERT-architecture checkpoints; {name_or_path} is "
              f"{config.model_type!r}: it is fine-tuned on its own head.")
    return AutoModelForSequenceClassification.from_pretrained(name_or_path, **config_overrides)


def pooling_of(model) -> str:
    """"mean" for a classifier on the token mean, "cls" for the architecture's own head."""
    return "mean" if getattr(model.config, "model_type", None) == MODEL_TYPE else "cls"


def classes() -> tuple:
    """(MeanPooledBertConfig, MeanPooledBertForSequenceClassification), built on first use so that
    importing this module does not import transformers."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    import torch
    from transformers import BertConfig, BertForSequenceClassification
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MeanPooledBertConfig(BertConfig):
        model_type = MODEL_TYPE

    class MeanPooledBertForSequenceClassification(BertForSequenceClassification):
        config_class = MeanPooledBertConfig
        _keys_to_ignore_on_load_unexpected = [r"pooler\."]  # the checkpoint's [CLS] pooler, dropped below

        def __init__(self, config):
            super().__init__(config)
            self.bert.pooler = None  # unused: the mean replaces it (and is not in the saved weights)

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                    inputs_embeds=None, labels=None, **kwargs):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                            position_ids=position_ids, inputs_embeds=inputs_embeds, return_dict=True)
            hidden = out.last_hidden_state
            if attention_mask is None:
                mask = torch.ones(hidden.shape[:2], dtype=hidden.dtype, device=hidden.device)
            else:
                mask = attention_mask.to(hidden.dtype)
            mask = mask.unsqueeze(-1)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            logits = self.classifier(self.dropout(pooled))
            loss = None
            if labels is not None:
                loss = torch.nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
            return SequenceClassifierOutput(loss=loss, logits=logits)

    _CLASSES = (MeanPooledBertConfig, MeanPooledBertForSequenceClassification)
    return _CLASSES


def register() -> None:
    """Make model_type "bert-mean-pooled" loadable by AutoConfig, AutoModelForSequenceClassification
    and pipeline("text-classification") in this Python (idempotent)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config_cls, model_cls = classes()
    try:
        AutoConfig.register(MODEL_TYPE, config_cls)
    except ValueError:  # already registered
        pass
    try:
        AutoModelForSequenceClassification.register(config_cls, model_cls)
    except ValueError:
        pass
