"""Relevance SFT of the yes/no scorer: listwise lists from `slm.data`, trained through the engine.

train(model, tokenizer, train_sampler(onet, contexts), TrainConfig(steps=300), run_dir) -> TrainStats
"""

from slm.train.config import TrainConfig
from slm.train.loop import TrainStats, train
from slm.train.trainable import freeze_for_serving

__all__ = ["TrainConfig", "TrainStats", "freeze_for_serving", "train"]
