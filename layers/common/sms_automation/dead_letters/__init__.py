"""Dead letters: the stream batches the trigger processor gave up on, and their replay.

A dead letter is an entry of the processor's dead-letter queue (SQS, ``TriggerProcessorDLQ``).

Lambda's on-failure destination receives *invocation records* (``batch``), which name a range of
stream records but carry none of them. The messages themselves stay in the table, so a replay
resolves the range to message SIDs while the stream still holds it (``stream``, 24 hours), or
picks unfinished messages by receive time after that (``pending``), rebuilds stream records
from the current table items (``events``) and invokes the processor with them (``invoker``,
``redrive``). Processing is idempotent: a replay never performs a step twice.

Nothing here calls AWS: the queue, the stream, the table and the processor are ports
(``ports``, ``invoker.ProcessorInvoker``); SQS, DynamoDB Streams, DynamoDB and Lambda are in
``adapters`` (``dead_letter_queue``, ``dynamo_stream``, ``replay_sources``, ``lambda_invoker``).
"""
