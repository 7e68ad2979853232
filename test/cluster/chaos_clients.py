# Client side of the chaos test (test/cluster/chaos.test.ts), run by Debian's /usr/bin/python3 with its
# confluent-kafka 1.7 (librdkafka 2.0.2), unmodified. Every event is one JSON line on stdout, written as it
# happens, so the Node test can check it even if this process is killed:
#
#   produce <params-json>: N idempotent acks=all producers (one Producer each) in one process. Every `interval`
#     seconds each sends one keyed message "p<slot>g<gen>-<seq>" (value "p<slot>g<gen>:<seq>:<padding>"); gen
#     counts the instances of a slot (a new one replaces an instance that had a fatal error). Lines:
#       {"e":"dr","p":slot,"g":gen,"s":seq,"part":P,"off":O,"err":null|"...","t":time}  one per delivery report
#       {"e":"error","p":slot,"g":gen,"code":..,"name":..,"fatal":bool,"str":..,"where":..,"t":time}
#       {"e":"retired","p":slot,"g":gen,...}, {"e":"stopping","sent":{name:n},"t":..},
#       {"e":"flushed","p":slot,"g":gen,"left":n,"t":..}, {"e":"done"}
#     It produces until a line "stop" (or EOF) on stdin, then flushes each producer (bounded).
#
#   consume <params-json>: a consumer group of `members` confluent-kafka consumers (one thread each), manual
#     synchronous commits after each batch, plus an observer thread that reads the group's committed offsets
#     (OffsetFetch via Consumer.committed on a non-member) every 0.5 s. Lines:
#       {"e":"msg","m":member,"part":P,"off":O,"k":key}             every record consumed
#       {"e":"commit","m":member,"offs":{P:O,...},"err":null|"..."}  every commit attempt and its result
#       {"e":"assign"|"revoke","m":member,"parts":[...]}           rebalances
#       {"e":"observed","offs":{P:O,...}}                            committed offsets as read by the observer
#       {"e":"cerror","m":member,"code":..,"name":..,"fatal":bool,"str":..}
#       {"e":"final","offs":{P:O,...},"err":...}                    committed offsets read after the members left
#     It consumes until "stop" on stdin, then closes the members (leaving the group) and reads the final offsets.
import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, separators=(',', ':'))
    with _out_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def wait_for_stop(flag):
    for line in sys.stdin:
        if line.strip() == 'stop':
            break
    flag.set()


def err_fields(err):
    return {'code': err.code(), 'name': err.name(), 'fatal': bool(err.fatal()), 'str': err.str()}


def produce(params):
    bootstrap, topic = params['bootstrap'], params['topic']
    count, interval = params['producers'], params['interval']
    pad = 'x' * params.get('pad', 50)
    stop = threading.Event()
    threading.Thread(target=wait_for_stop, args=(stop,), daemon=True).start()

    # A producer instance is "p<slot>g<generation>": a fatal error (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER) makes
    # confluent-kafka raise from poll()/produce()/flush(); it is reported once, that instance is retired (its
    # queue purged: every message left gets a failed delivery report) and the slot goes on with a new instance
    # (a new producer id), so the rest of the schedule still has three producers to test.
    class Instance(object):
        def __init__(self, slot, gen):
            self.slot, self.gen, self.seq, self.dead = slot, gen, 0, False
            self.name = 'p%dg%d' % (slot, gen)

            def on_error(err):
                if err.fatal():
                    self.die(err, 'error_cb')
                else:
                    emit(dict(e='error', p=slot, g=gen, t=time.time(), where='error_cb', **err_fields(err)))

            self.producer = Producer({
                'bootstrap.servers': bootstrap,
                'client.id': 'chaos-' + self.name,
                'enable.idempotence': True,
                'acks': 'all',
                'message.timeout.ms': params.get('messageTimeoutMs', 120000),
                'linger.ms': 5,
                'error_cb': on_error,
            })

        def die(self, err, where):
            if not self.dead:
                fields = err_fields(err) if isinstance(err, KafkaError) else {'code': None, 'name': type(err).__name__, 'fatal': True, 'str': str(err)}
                emit(dict(e='error', p=self.slot, g=self.gen, t=time.time(), where=where, **fields))
            self.dead = True

        def on_raise(self, e, where):
            err = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else e
            if not isinstance(err, KafkaError) or err.fatal():
                self.die(err, where)
            else:
                emit(dict(e='error', p=self.slot, g=self.gen, t=time.time(), where=where, **err_fields(err)))

        def poll(self, timeout=0):
            try:
                return self.producer.poll(timeout)
            except KafkaException as e:
                self.on_raise(e, 'poll')
                return 0

        def produce(self):
            s = self.seq
            key = '%s-%d' % (self.name, s)
            slot, gen = self.slot, self.gen

            def on_delivery(err, msg):
                if err is not None:
                    emit({'e': 'dr', 'p': slot, 'g': gen, 's': s, 'part': msg.partition(), 'off': -1, 'err': '%s(%d)%s' % (err.name(), err.code(), ' FATAL' if err.fatal() else ''), 't': time.time()})
                else:
                    emit({'e': 'dr', 'p': slot, 'g': gen, 's': s, 'part': msg.partition(), 'off': msg.offset(), 'err': None, 't': time.time()})
            try:
                self.producer.produce(topic, key=key, value='%s:%d:%s' % (self.name, s, pad), on_delivery=on_delivery)
                self.seq += 1
            except BufferError:
                pass  # queue full: try this sequence number again next round
            except KafkaException as e:
                self.on_raise(e, 'produce')

        def retire(self):
            try:
                self.producer.purge()
            except KafkaException as e:
                self.on_raise(e, 'purge')

    current = [Instance(i, 0) for i in range(count)]
    everyone = list(current)
    retired = []

    def poll_all():
        for inst in current:
            inst.poll()
        for inst in retired:
            inst.poll()

    emit({'e': 'started', 't': time.time()})
    next_at = time.time()
    while not stop.is_set():
        for i in range(count):
            inst = current[i]
            if inst.dead:
                emit({'e': 'retired', 'p': inst.slot, 'g': inst.gen, 'sent': inst.seq, 't': time.time()})
                inst.retire()
                retired.append(inst)
                inst = current[i] = Instance(i, inst.gen + 1)
                everyone.append(inst)
            inst.produce()
            inst.poll()
        next_at += interval
        delay = next_at - time.time()
        if delay > 0:
            # Serve delivery reports while waiting.
            end = time.time() + delay
            while True:
                poll_all()
                left = end - time.time()
                if left <= 0:
                    break
                time.sleep(min(left, 0.005))
        else:
            next_at = time.time()
    emit({'e': 'stopping', 't': time.time(), 'sent': {inst.name: inst.seq for inst in everyone}})
    deadline = time.time() + params.get('flushSeconds', 60)
    for inst in everyone:
        # A dead instance delivers nothing more: its queue is purged after a short grace.
        end = min(deadline, time.time() + 5) if inst.dead else deadline
        left = None
        while True:
            try:
                left = inst.producer.flush(max(0.1, end - time.time()))
                break
            except KafkaException as e:
                inst.on_raise(e, 'flush')
                if time.time() >= end:
                    left = len(inst.producer)
                    break
        if left and inst.dead:
            inst.retire()
            for _ in range(20):
                if inst.poll(0.1) == 0 and len(inst.producer) == 0:
                    break
            left = len(inst.producer)
        emit({'e': 'flushed', 'p': inst.slot, 'g': inst.gen, 'left': left, 't': time.time()})
    emit({'e': 'done', 't': time.time()})


def consume(params):
    bootstrap, topic, group = params['bootstrap'], params['topic'], params['group']
    members = params['members']
    stop = threading.Event()
    threading.Thread(target=wait_for_stop, args=(stop,), daemon=True).start()

    def conf(member, extra=None):
        def on_error(err):
            emit(dict(e='cerror', m=member, t=time.time(), **err_fields(err)))
        c = {
            'bootstrap.servers': bootstrap,
            'group.id': group,
            'client.id': 'chaos-c%s' % member,
            'enable.auto.commit': False,
            'enable.auto.offset.store': False,
            'auto.offset.reset': 'earliest',
            'session.timeout.ms': 6000,
            'heartbeat.interval.ms': 500,
            'error_cb': on_error,
        }
        c.update(extra or {})
        return c

    def member_loop(m):
        c = Consumer(conf(m))

        def on_assign(consumer, parts):
            emit({'e': 'assign', 'm': m, 'parts': [tp.partition for tp in parts], 't': time.time()})

        def on_revoke(consumer, parts):
            emit({'e': 'revoke', 'm': m, 'parts': [tp.partition for tp in parts], 't': time.time()})

        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        try:
            while not stop.is_set():
                try:
                    msgs = c.consume(num_messages=200, timeout=0.3)
                except KafkaException as e:
                    emit(dict(e='cerror', m=m, t=time.time(), where='consume', **err_fields(e.args[0])))
                    continue
                nxt = {}
                for msg in msgs:
                    if msg.error():
                        if msg.error().code() != KafkaError._PARTITION_EOF:
                            emit(dict(e='cerror', m=m, t=time.time(), where='message', **err_fields(msg.error())))
                        continue
                    k = msg.key().decode() if msg.key() is not None else None
                    emit({'e': 'msg', 'm': m, 'part': msg.partition(), 'off': msg.offset(), 'k': k})
                    nxt[msg.partition()] = msg.offset() + 1
                if not nxt:
                    continue
                offs = [TopicPartition(topic, p, o) for p, o in sorted(nxt.items())]
                try:
                    res = c.commit(offsets=offs, asynchronous=False)
                    errs = [('%d:%s' % (tp.partition, tp.error)) for tp in (res or []) if tp.error]
                    emit({'e': 'commit', 'm': m, 'offs': {str(p): o for p, o in nxt.items()}, 'err': ';'.join(errs) or None, 't': time.time()})
                except KafkaException as e:
                    emit({'e': 'commit', 'm': m, 'offs': {str(p): o for p, o in nxt.items()}, 'err': str(e.args[0]), 't': time.time()})
        finally:
            c.close()
            emit({'e': 'closed', 'm': m, 't': time.time()})

    def committed_offsets(c, partitions):
        res = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=5)
        return {str(tp.partition): tp.offset for tp in res}

    def observer():
        # Not a member (never subscribes): committed() is an OffsetFetch to the group's coordinator.
        c = Consumer(conf('obs'))
        try:
            while not stop.is_set():
                try:
                    emit({'e': 'observed', 'offs': committed_offsets(c, params['partitions']), 't': time.time()})
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
    c = Consumer(conf('final'))
    final, err = None, None
    for _ in range(10):
        try:
            final = committed_offsets(c, params['partitions'])
            break
        except KafkaException as e:
            err = str(e.args[0])
            time.sleep(1)
    c.close()
    emit({'e': 'final', 'offs': final, 'err': err, 't': time.time()})
    emit({'e': 'done', 't': time.time()})


def read_all(params):
    # A fresh, group-less reader of every partition from offset 0 to its high watermark (read_committed, librdkafka's
    # default, unless params say 'isolation': 'read_uncommitted').
    bootstrap, topic, partitions = params['bootstrap'], params['topic'], params['partitions']
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'chaos-reader', 'enable.auto.commit': False,
                  'enable.partition.eof': True, 'auto.offset.reset': 'earliest',
                  'isolation.level': params.get('isolation', 'read_committed')})
    ends = {}
    for p in range(partitions):
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        ends[p] = hi
        emit({'e': 'watermarks', 'part': p, 'lo': lo, 'hi': hi})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    done = {p for p in range(partitions) if ends[p] == 0}
    deadline = time.time() + params.get('timeoutSeconds', 60)
    while len(done) < partitions and time.time() < deadline:
        for msg in c.consume(num_messages=500, timeout=0.5):
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    if msg.offset() >= ends[msg.partition()]:
                        done.add(msg.partition())
                else:
                    emit(dict(e='rerror', **err_fields(msg.error())))
                continue
            emit({'e': 'rec', 'part': msg.partition(), 'off': msg.offset(), 'k': msg.key().decode() if msg.key() is not None else None,
                  'v': msg.value().decode()[:40] if msg.value() is not None else None})
            if msg.offset() + 1 >= ends[msg.partition()]:
                done.add(msg.partition())
    c.close()
    emit({'e': 'done', 'complete': sorted(done), 't': time.time()})


if __name__ == '__main__':
    mode, params = sys.argv[1], json.loads(sys.argv[2])
    {'produce': produce, 'consume': consume, 'read': read_all}[mode](params)
