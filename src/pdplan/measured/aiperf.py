"""TEMP"""


def is_aiperf(obj):
    return False
