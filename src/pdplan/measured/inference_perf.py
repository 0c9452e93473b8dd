"""TEMP"""


def is_inference_perf(obj):
    return False
