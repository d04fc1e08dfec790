"""Deep ranking models (Wide&Deep, DeepFM, DCN v2, DIN, MMoE) trained by the launcher.

- ``feature_map``: the contract between ``ctr_feature_encoder`` (Spark), the models and serving;
- ``params``: every model's parameters and the launcher settings, declared once (no torch);
- ``models``: one short module per model (deepctr-torch definitions behind ``RankingNetwork``);
- ``data``: the encoded table read in batches, sharded over the DDP workers (any storage URL, Hive);
- ``trainer``: the one training loop (DDP, LR decay, early stopping on validation AUC, checkpoints);
- ``export``: TorchScript and ONNX, checked against PyTorch within 1e-5;
- ``train``: a replica's entry point; ``job``: the TrainingJob that runs it;
- ``synthetic``: click data with a known true probability (``synthetic_ctr``).

Importing this package imports nothing heavy; torch is imported by ``models``, ``trainer``,
``export`` and ``train`` only.
"""
