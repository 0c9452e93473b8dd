"""Measuring live OpenAI-compatible engines: the only package that touches the network.

``client`` streams one request and times it; ``prompts`` builds prompts of exact length;
``runner`` drives closed- and open-loop load;
``records`` writes every request as it finishes; ``stats`` summarizes (pure).
"""
