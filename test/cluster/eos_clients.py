# Client side of the exactly-once test (test/cluster/eos.test.ts), run by Debian's /usr/bin/python3 with its
# confluent-kafka 1.7 (librdkafka 2.0.2), unmodified. The input feed and the final readers are chaos_clients.py's
# `produce` and `read` modes; this file adds the consume-transform-produce loop:
#
#   transform <params-json>: `members` members of one consumer group (isolation.level=read_committed, no auto
#     commit), each with its own transactional producer (transactional.id "<prefix>-<member>"). Per batch of
#     input records: begin_transaction, one output record per input record (same partition number, key = the input
#     key, value "<in partition>:<in offset>:<in key>"), send_offsets_to_transaction with the consumer's group
#     metadata (KIP-447 fencing), commit_transaction. As Kafka's documentation prescribes: a retriable error
#     retries the same call; an abortable one aborts and rewinds the consumer to the committed offsets; a fatal one
#     (fenced) closes the producer, makes a new one with the same transactional.id and rewinds. Lines:
#       {"e":"txn","m":member,"n":records,"offs":{P:O},"t":..}        a committed transaction
#       {"e":"abort","m":member,"why":"...","t":..}                   an aborted one (records re-processed)
#       {"e":"retry","m":member,"call":"...","why":"...","t":..}      a retriable error, same call again
#       {"e":"fatal","m":member,"why":"...","t":..}                   a new producer instance after a fatal error
#       {"e":"assign"|"revoke","m":member,"parts":[...],"t":..}
#       {"e":"observed","offs":{P:O},"t":..}                          the group's committed offsets, every 0.5 s
#     It runs until "stop" on stdin, then closes the members and prints {"e":"final","offs":{..}} and {"e":"done"}.
import threading
import time
import sys

from chaos_clients import emit, wait_for_stop, err_fields
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

OFFSET_INVALID = -1001
OFFSET_BEGINNING = -2


def transform(params):
    bootstrap, source, sink, group = params['bootstrap'], params['input'], params['output'], params['group']
    members, batch = params['members'], params.get('batch', 50)
    call_timeout = params.get('callTimeoutSeconds', 60)
    stop = threading.Event()
    threading.Thread(target=wait_for_stop, args=(stop,), daemon=True).start()

    def consumer_conf(member):
        return {
            'bootstrap.servers': bootstrap,
            'group.id': group,
            'client.id': 'eos-c%s' % member,
            'isolation.level': 'read_committed',
            'enable.auto.commit': False,
            'enable.auto.offset.store': False,
            'auto.offset.reset': 'earliest',
            'session.timeout.ms': 6000,
            'heartbeat.interval.ms': 500,
            'error_cb': lambda err: emit(dict(e='cerror', m=member, t=time.time(), **err_fields(err))),
        }

    def new_producer(member, gen):
        p = Producer({
            'bootstrap.servers': bootstrap,
            'client.id': 'eos-p%dg%d' % (member, gen),
            'transactional.id': '%s-%d' % (params['transactionalIdPrefix'], member),
            'transaction.timeout.ms': params.get('transactionTimeoutMs', 30000),
            'message.timeout.ms': params.get('transactionTimeoutMs', 30000),
            'linger.ms': 5,
            'error_cb': lambda err: emit(dict(e='perror', m=member, g=gen, t=time.time(), **err_fields(err))),
        })
        retrying(member, 'init_transactions', lambda: p.init_transactions(call_timeout))
        return p

    def retrying(member, call, fn):
        # Retriable errors: the same call again (librdkafka keeps the transaction's state), until stopped.
        while True:
            try:
                return fn()
            except KafkaException as e:
                err = e.args[0]
                if err.retriable() and not stop.is_set():
                    emit({'e': 'retry', 'm': member, 'call': call, 'why': err.str(), 't': time.time()})
                    time.sleep(0.2)
                    continue
                raise

    def rewind(c, member):
        # Back to the committed offsets (read with require_stable, so a commit still being completed is waited for).
        parts = c.assignment()
        if not parts:
            return
        while True:
            try:
                committed = c.committed(parts, timeout=call_timeout)
                break
            except KafkaException as e:
                emit({'e': 'retry', 'm': member, 'call': 'committed', 'why': e.args[0].str(), 't': time.time()})
                time.sleep(0.2)
        for tp in committed:
            off = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            try:
                c.seek(TopicPartition(source, tp.partition, off))
            except KafkaException as e:
                emit({'e': 'retry', 'm': member, 'call': 'seek', 'why': e.args[0].str(), 't': time.time()})

    def member_loop(m):
        c = Consumer(consumer_conf(m))
        gen = 0
        p = new_producer(m, gen)

        def on_assign(consumer, parts):
            emit({'e': 'assign', 'm': m, 'parts': [tp.partition for tp in parts], 't': time.time()})

        def on_revoke(consumer, parts):
            emit({'e': 'revoke', 'm': m, 'parts': [tp.partition for tp in parts], 't': time.time()})

        c.subscribe([source], on_assign=on_assign, on_revoke=on_revoke)
        try:
            while not stop.is_set():
                try:
                    msgs = c.consume(num_messages=batch, timeout=0.3)
                except KafkaException as e:
                    emit(dict(e='cerror', m=m, t=time.time(), where='consume', **err_fields(e.args[0])))
                    continue
                records = []
                for msg in msgs:
                    if msg.error():
                        if msg.error().code() != KafkaError._PARTITION_EOF:
                            emit(dict(e='cerror', m=m, t=time.time(), where='message', **err_fields(msg.error())))
                        continue
                    records.append(msg)
                if not records:
                    continue
                nxt = {}
                for msg in records:
                    nxt[msg.partition()] = msg.offset() + 1
                try:
                    p.begin_transaction()
                    for msg in records:
                        k = msg.key().decode()
                        value = '%d:%d:%s' % (msg.partition(), msg.offset(), k)
                        while True:
                            try:
                                p.produce(sink, key=k, value=value, partition=msg.partition())
                                break
                            except BufferError:
                                p.poll(0.05)
                    offs = [TopicPartition(source, part, off) for part, off in sorted(nxt.items())]
                    retrying(m, 'send_offsets_to_transaction', lambda: p.send_offsets_to_transaction(offs, c.consumer_group_metadata(), call_timeout))
                    retrying(m, 'commit_transaction', lambda: p.commit_transaction(call_timeout))
                    emit({'e': 'txn', 'm': m, 'g': gen, 'n': len(records), 'offs': {str(k): v for k, v in nxt.items()}, 't': time.time()})
                except KafkaException as e:
                    err = e.args[0]
                    if err.txn_requires_abort() and not err.fatal():
                        emit({'e': 'abort', 'm': m, 'g': gen, 'why': err.str(), 't': time.time()})
                        try:
                            retrying(m, 'abort_transaction', lambda: p.abort_transaction(call_timeout))
                            rewind(c, m)
                            continue
                        except KafkaException as e2:
                            err = e2.args[0]
                    # Fenced or otherwise unusable (or stopped while retrying): a new instance, same id.
                    emit({'e': 'fatal', 'm': m, 'g': gen, 'why': err.str(), 'name': err.name(), 't': time.time()})
                    try:
                        p.purge()
                    except KafkaException:
                        pass
                    if stop.is_set():
                        break
                    gen += 1
                    p = new_producer(m, gen)
                    rewind(c, m)
        finally:
            c.close()
            emit({'e': 'closed', 'm': m, 't': time.time()})

    def committed_offsets(c):
        res = c.committed([TopicPartition(source, q) for q in range(params['partitions'])], timeout=5)
        return {str(tp.partition): tp.offset for tp in res}

    def observer():
        c = Consumer(consumer_conf('obs'))
        try:
            while not stop.is_set():
                try:
                    emit({'e': 'observed', 'offs': committed_offsets(c), 't': time.time()})
                except KafkaException as e:
                    emit({'e': 'observed', 'err': str(e.args[0]), 't': time.time()})
                stop.wait(0.5)
        finally:
            c.close()

    threads = [threading.Thread(target=member_loop, args=(m,)) for m in range(members)]
    threads.append(threading.Thread(target=observer))
    emit({'e': 'started', 't': time.time()})
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c = Consumer(consumer_conf('final'))
    final, err = None, None
    for _ in range(10):
        try:
            final = committed_offsets(c)
            break
        except KafkaException as e:
            err = str(e.args[0])
            time.sleep(1)
    c.close()
    emit({'e': 'final', 'offs': final, 'err': err, 't': time.time()})
    emit({'e': 'done', 't': time.time()})


if __name__ == '__main__':
    import json
    mode, params = sys.argv[1], json.loads(sys.argv[2])
    {'transform': transform}[mode](params)
