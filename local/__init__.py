"""The no-Docker local stack: template.yaml read as API Gateway would, embedded moto, SMTP ingress.

`python -m local` (what `make run` runs) starts it; see local/__main__.py.
"""
