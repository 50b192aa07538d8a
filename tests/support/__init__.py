"""What the tests share, in one place: starting the product and its parts
(launch: the product as `make run` starts it; product, backend, web), the services they need (postgres, redis), WeChat's
side of the channel, a TCP proxy that can cut a link, waiting for a condition,
and the markers plugin that keeps `make test-fast` free of anything slow.

conftest.py files hold fixtures only; they and the test modules import from here.
"""
