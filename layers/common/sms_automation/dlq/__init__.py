"""The trigger processor's dead-letter queue: what the stream gave up on, and its replay.

Lambda's on-failure destination receives *invocation records* (``batch``), which name a range of
stream records but carry none of them. The messages themselves stay in the table, so a replay
resolves the range to message SIDs while the stream still holds it (``stream``, 24 hours), or
picks unfinished messages by receive time after that (``pending``), rebuilds stream records
from the current table items (``events``) and invokes the processor with them (``invoker``,
``redrive``). Processing is idempotent: a replay never performs a step twice.

Nothing here calls AWS: the queue, the stream, the table and the processor are ports
(``ports``, ``invoker.ProcessorInvoker``); SQS, DynamoDB Streams, DynamoDB and Lambda are in
``adapters`` (``dlq_queue``, ``dynamo_stream``, ``replay_sources``, ``lambda_invoker``).
"""
