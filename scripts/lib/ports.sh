# The local stack's addresses, in one place. Non-default ports so a developer's own Redis
# or LocalStack on the default ports is never touched.
HOST=127.0.0.1
LOCALSTACK_PORT=4566
REDIS_PRIMARY_PORT=6380
REDIS_REPLICA_PORT=6381
SENTINEL_PORTS=(26380 26381 26382)
SENTINEL_NAME=mcache
CLUSTER_PORTS=(7100 7101 7102 7103 7104 7105)
ORIGIN_PORT=4599
