"""TEMP"""


def is_guidellm(obj):
    return False
