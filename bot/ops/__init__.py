"""Running the product: `make run`, `make shell` and `make cluster`.

  launcher   `python -m bot run|shell`: every process on loopback, watched and restarted
  processes  Service, ServiceGroup: start, health-check, supervise and stop child processes
  cluster    replicas behind nginx, the PostgreSQL databases of a cluster
"""
