"""The serving peer of bench/serve.mjs, configured as FastAPI's experts would: an `async def`
handler (no threadpool hop per request), uvicorn with uvloop and httptools (what
`uvicorn[standard]` brings; Debian's python3-uvloop and python3-httptools), one worker, access log
off, and a NumPy row into scikit-learn's `DecisionTreeRegressor.predict` (the model the peers'
`serve/train_model.py` fits: the same tree @mlops answers with).

Run (bench/serve.mjs does this through the peers' harness, `bench_serve.py --external`):

    PEER_MODEL=.bench/serve/peers/serve/model_np.joblib \\
      /usr/bin/python3 -m uvicorn serve_fastapi:app --app-dir bench --host 127.0.0.1 \\
      --port 18090 --workers 1 --loop uvloop --http httptools --no-access-log

The body model is the peers' (`DeliveryFeatures`, 30 fields validated by pydantic); POST /predict
answers {"prediction": x}.
"""
import os

import joblib
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel


class DeliveryFeatures(BaseModel):
    id: int
    delivery_person_age: float
    delivery_person_ratings: float
    restaurant_latitude: float
    restaurant_longitude: float
    delivery_location_latitude: float
    delivery_location_longitude: float
    weather_conditions: int
    road_traffic_density: int
    vehicle_condition: int
    type_of_order: int
    type_of_vehicle: int
    multiple_deliveries: int
    festival: int
    city: int
    city_code: int
    day: int
    month: int
    quarter: int
    year: int
    day_of_week: int
    is_month_start: int
    is_month_end: int
    is_quarter_start: int
    is_quarter_end: int
    is_year_start: int
    is_year_end: int
    is_weekend: int
    order_prepare_time: float
    distance: float


FEATURES = [f for f in DeliveryFeatures.__fields__ if f != "id"]
model = joblib.load(os.environ["PEER_MODEL"])
app = FastAPI(title="delivery-duration-peer-async")


@app.get("/health")
async def health():
    return {"status": "ok", "handler": "numpy-async"}


@app.post("/predict")
async def predict(item: DeliveryFeatures):
    # The prediction of one row takes microseconds: running it on the event loop is what an
    # `async def` handler does, and cheaper than the threadpool a sync `def` would take.
    x = np.array([[getattr(item, f) for f in FEATURES]], dtype=np.float64)
    return {"prediction": float(model.predict(x)[0])}
