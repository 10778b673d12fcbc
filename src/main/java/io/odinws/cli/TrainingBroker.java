package io.odinws.cli;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * An empty Kafka broker for {@link CdsTraining}, on a loopback port: it answers the four requests the server's consumer
 * makes on its way to ready and while it polls (ApiVersions, Metadata, ListOffsets, Fetch) for the given topics, one
 * partition each, no record. Without a broker the training never ran the client's answered paths, and a real start
 * loaded their classes from the jar (about 140 of Kafka's, with their lambdas), outside the class-data sharing
 * archive. Built from Kafka's own message classes; anything else asked closes the connection. Not a broker to serve
 * anything but the training.
 */
final class TrainingBroker implements AutoCloseable {

  private static final int NODE = 0;
  /** A fetch is held this long, as a broker holds one until fetch.max.wait.ms with nothing to return. */
  private static final long FETCH_WAIT_MS = 100;

  private final ServerSocket listener;
  /** The topics served, each with its id. */
  private final Map<String, Uuid> topicIds;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  TrainingBroker(Set<String> topics) throws IOException {
    this.topicIds = topics.stream().collect(Collectors.toUnmodifiableMap(t -> t, t -> Uuid.randomUuid()));
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "training-broker");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  String bootstrap() {
    return "127.0.0.1:" + listener.getLocalPort();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket s = listener.accept();
        open.add(s);
        Thread t = new Thread(() -> serve(s), "training-broker-connection");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Size-prefixed requests in, size-prefixed responses out, in order, until the client or the training closes. */
  private void serve(Socket s) {
    try (s; DataInputStream in = new DataInputStream(s.getInputStream());
         DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
      while (!closed) {
        byte[] request = new byte[in.readInt()];
        in.readFully(request);
        ByteBuffer buf = ByteBuffer.wrap(request);
        RequestHeader header = RequestHeader.parse(buf);
        ApiKeys key = header.apiKey();
        short version = header.apiVersion();
        ApiMessage body = AbstractRequest.parseRequest(key, version, new ByteBufferAccessor(buf)).request.data();
        ApiMessage response = answer(key, body);
        if (response == null) {
          return;
        }
        ByteBuffer bytes = RequestUtils.serialize(new ResponseHeaderData().setCorrelationId(header.correlationId()),
            key.responseHeaderVersion(version), response, version);
        out.writeInt(bytes.remaining());
        out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
        out.flush();
      }
    } catch (IOException | RuntimeException | InterruptedException e) {
      // the client went away, the training closed, or a request this broker does not know
    } finally {
      open.remove(s);
    }
  }

  private ApiMessage answer(ApiKeys key, ApiMessage body) throws InterruptedException {
    switch (key) {
      case API_VERSIONS:
        return new ApiVersionsResponseData().setApiKeys(ApiVersionsResponse.collectApis(ApiMessageType.ListenerType.BROKER,
            Set.of(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.LIST_OFFSETS, ApiKeys.FETCH), false));
      case METADATA:
        return metadata((MetadataRequestData) body);
      case LIST_OFFSETS:
        return listOffsets((ListOffsetsRequestData) body);
      case FETCH:
        Thread.sleep(FETCH_WAIT_MS);
        return fetch((FetchRequestData) body);
      default:
        return null;
    }
  }

  private MetadataResponseData metadata(MetadataRequestData request) {
    List<String> asked = new ArrayList<>();
    if (request.topics() == null) {
      asked.addAll(topicIds.keySet());
    } else {
      request.topics().forEach(t -> asked.add(t.name()));
    }
    MetadataResponseData.MetadataResponseTopicCollection answered = new MetadataResponseData.MetadataResponseTopicCollection();
    for (String name : asked) {
      boolean known = topicIds.containsKey(name);
      answered.add(new MetadataResponseData.MetadataResponseTopic().setName(name)
          .setTopicId(topicIds.getOrDefault(name, Uuid.ZERO_UUID))
          .setErrorCode(known ? Errors.NONE.code() : Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
          .setPartitions(known
              ? List.of(new MetadataResponseData.MetadataResponsePartition().setPartitionIndex(0).setLeaderId(NODE)
                  .setLeaderEpoch(0).setReplicaNodes(List.of(NODE)).setIsrNodes(List.of(NODE)))
              : List.of()));
    }
    MetadataResponseData.MetadataResponseBrokerCollection brokers = new MetadataResponseData.MetadataResponseBrokerCollection();
    brokers.add(new MetadataResponseData.MetadataResponseBroker().setNodeId(NODE).setHost("127.0.0.1")
        .setPort(listener.getLocalPort()));
    return new MetadataResponseData().setBrokers(brokers).setClusterId("odin-ws-cds-training").setControllerId(NODE)
        .setTopics(answered);
  }

  private ListOffsetsResponseData listOffsets(ListOffsetsRequestData request) {
    List<ListOffsetsResponseData.ListOffsetsTopicResponse> answered = new ArrayList<>();
    for (ListOffsetsRequestData.ListOffsetsTopic t : request.topics()) {
      List<ListOffsetsResponseData.ListOffsetsPartitionResponse> partitions = new ArrayList<>();
      t.partitions().forEach(p -> partitions.add(new ListOffsetsResponseData.ListOffsetsPartitionResponse()
          .setPartitionIndex(p.partitionIndex()).setTimestamp(-1).setOffset(0).setLeaderEpoch(0)));
      answered.add(new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(t.name()).setPartitions(partitions));
    }
    return new ListOffsetsResponseData().setTopics(answered);
  }

  private FetchResponseData fetch(FetchRequestData request) {
    List<FetchResponseData.FetchableTopicResponse> answered = new ArrayList<>();
    for (FetchRequestData.FetchTopic t : request.topics()) {
      List<FetchResponseData.PartitionData> partitions = new ArrayList<>();
      t.partitions().forEach(p -> partitions.add(new FetchResponseData.PartitionData().setPartitionIndex(p.partition())
          .setHighWatermark(0).setLastStableOffset(0).setLogStartOffset(0).setRecords(MemoryRecords.EMPTY)));
      answered.add(new FetchResponseData.FetchableTopicResponse().setTopic(t.topic()).setTopicId(t.topicId())
          .setPartitions(partitions));
    }
    return new FetchResponseData().setResponses(answered);
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    for (Socket s : open) {
      s.close();
    }
  }
}
