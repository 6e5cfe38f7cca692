"""Step 10: a minimal FastAPI service around src/inference.py.

    uvicorn app:app --app-dir "$PROJECT_ROOT/src/api" --port 8000
    curl -s localhost:8000/health
    curl -s -X POST localhost:8000/predict -H 'content-type: application/json' \
         -d '{"title": "Leather running shoe", "description": "trail sneaker", "top_k": 3}'

Models are loaded once at startup (lifespan); requests are validated by pydantic
(title 1-1000 characters, description up to 10,000, top_k 1-20) and rejected with 422.
PROJECT_ROOT is the environment variable when set, else the folder above src/.
MODEL_KINDS (env, comma-separated, default "baseline,bert") chooses what to load; a model
whose files are missing is reported by /health instead of stopping the service. /health also
says what each model reads: BERT takes a description only when it was trained on
(title, description) pairs (inference.BertPredictor, decided in Step 6 from the train split).
"""
from __future__ import annotations

import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

# `uvicorn app:app --app-dir src/api` puts only src/api on sys.path; inference.py lives in src/.
_SRC = str(Path(__file__).resolve().parent.parent)
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)

import inference  # noqa: E402

MAX_TOP_K = 20


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: StrictStr = Field(..., min_length=1, max_length=inference.MAX_TITLE_CHARS)
    description: StrictStr | None = Field("", max_length=inference.MAX_DESCRIPTION_CHARS)
    top_k: StrictInt = Field(3, ge=1, le=MAX_TOP_K)
    model: Literal["baseline", "bert"] = "baseline"


class Prediction(BaseModel):
    label: str
    probability: float


class PredictResponse(BaseModel):
    model: str
    predictions: list[Prediction]


STATE: dict = {"loaded": {}, "errors": {}}


def _kinds() -> list[str]:
    raw = os.environ.get("MODEL_KINDS", "baseline,bert")
    return [k.strip() for k in raw.split(",") if k.strip() in inference.MODEL_KINDS]


@asynccontextmanager
async def lifespan(_app: FastAPI):
    root = str(inference.project_root())
    STATE["root"] = root
    for kind in _kinds():
        try:
            STATE["loaded"][kind] = inference.get_predictor(kind, root)
        except Exception as exc:  # a missing BERT must not take the baseline API down
            STATE["errors"][kind] = f"{type(exc).__name__}: {exc}"
    yield
    STATE["loaded"].clear()
    STATE["errors"].clear()


app = FastAPI(title="Product categorization", version="1.0", lifespan=lifespan)


@app.get("/health")
def health() -> dict:
    ok = bool(STATE["loaded"])
    return {"status": "ok" if ok else "no_model", "project_root": STATE.get("root"),
            "models": sorted(STATE["loaded"]), "errors": STATE["errors"],
            "inputs": {k: getattr(p, "inputs", "") for k, p in sorted(STATE["loaded"].items())}}


@app.post("/predict", response_model=PredictResponse)
def predict(req: PredictRequest) -> PredictResponse:
    predictor = STATE["loaded"].get(req.model)
    if predictor is None:
        raise HTTPException(status_code=503, detail=f"model {req.model!r} is not loaded: "
                            f"{STATE['errors'].get(req.model, 'not requested in MODEL_KINDS')}")
    if not req.title.strip():
        raise HTTPException(status_code=422, detail="title must not be blank")
    preds = predictor.top_k(req.title, req.description or "", req.top_k)
    return PredictResponse(model=req.model, predictions=[Prediction(**p) for p in preds])
