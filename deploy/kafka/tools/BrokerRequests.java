// What a local broker spends its time on: requests per second by API, and records per second into each topic,
// over a window, read through JMX from the running broker process (attach API; no JMX port needed).
//
//   java deploy/kafka/tools/BrokerRequests.java "$(cat .local/kafka-9092/kafka.pid)" 30
//
// Topic names are printed without a test/bench prefix (`<prefix>.`), so that a run's topics add up by name.

import com.sun.tools.attach.VirtualMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerRequests {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java BrokerRequests.java BROKER_PID SECONDS");
            System.exit(2);
        }
        String address = VirtualMachine.attach(args[0]).startLocalManagementAgent();
        MBeanServerConnection jmx = JMXConnectorFactory.connect(new JMXServiceURL(address)).getMBeanServerConnection();
        long seconds = Long.parseLong(args[1]);
        Map<String, Long> before = counts(jmx);
        Thread.sleep(seconds * 1000);
        List<Map.Entry<String, Long>> rates = new ArrayList<>();
        for (var entry : counts(jmx).entrySet()) {
            rates.add(Map.entry(entry.getKey(), entry.getValue() - before.getOrDefault(entry.getKey(), 0L)));
        }
        rates.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        for (var rate : rates) {
            if (rate.getValue() > 0) {
                System.out.printf("%9.1f/s  %s%n", rate.getValue() / (double) seconds, rate.getKey());
            }
        }
    }

    static Map<String, Long> counts(MBeanServerConnection jmx) throws Exception {
        Map<String, Long> counts = new TreeMap<>();
        for (ObjectName name : jmx.queryNames(new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
            counts.merge("requests " + name.getKeyProperty("request"), (Long) jmx.getAttribute(name, "Count"), Long::sum);
        }
        for (ObjectName name : jmx.queryNames(new ObjectName("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec,*"), null)) {
            String topic = name.getKeyProperty("topic");
            topic = topic == null ? "(all topics)" : topic.replaceAll("^[^.]*-[0-9a-f]{6,}\\.", "");
            counts.merge("records in " + topic, (Long) jmx.getAttribute(name, "Count"), Long::sum);
        }
        return counts;
    }
}
