"""`make bench`: cold start, warm overhead, DynamoDB calls per request, list scaling, forwarder memory, sizes.

Every figure is measured next to its floor in the same run (the machine is shared and noisy): see
bench/__main__.py for what is measured how, and bench/floor/app.py for the floor itself.
"""
