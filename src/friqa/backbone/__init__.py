"""The VGG16 backbone shared by the deep metrics, and its weights."""

from friqa.backbone.feature_cache import FeatureCache, active_feature_cache, feature_cache
from friqa.backbone.pooling import L2Pool
from friqa.backbone.vgg16 import IMAGENET_MEAN, IMAGENET_STD, TAPS, VGG16, get_vgg16
from friqa.backbone.weights import load_vgg16_state_dict, resolve_vgg16_weights

__all__ = [
    "VGG16",
    "TAPS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "L2Pool",
    "FeatureCache",
    "feature_cache",
    "active_feature_cache",
    "get_vgg16",
    "load_vgg16_state_dict",
    "resolve_vgg16_weights",
]
