// The stack's admin creates the services' topics and gives the services their SCRAM-SHA-512 credentials
// and ACLs, in one JVM start (kafka-topics.sh, kafka-configs.sh and kafka-acls.sh would take one each).
// Idempotent: a topic that exists is left as it is, a credential is upserted, an ACL that exists stays.
// Run by deploy/local/stack.sh:
//
//   java -cp "$KAFKA_LIBS/*:<compiled>" Provision admin.properties < lines   (the client's log on stdout)
//
// Lines on stdin (deploy/local/kafka/grants.txt, a topic prefix put before the names):
//   topic <name>                                                     3 partitions, kept forever (shared/topics.py),
//                                                                    replicated as the broker's default.replication.factor
//   user <name> <password>                                           a SCRAM-SHA-512 credential
//   allow <name> <topic|group> <literal|prefixed> <resource> <operation>   an ALLOW ACL for User:<name>
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class Provision {
    public static void main(String[] args) throws Exception {
        Properties config = new Properties();
        try (var in = Files.newInputStream(Path.of(args[0]))) {
            config.load(in);
        }
        List<UserScramCredentialAlteration> users = new ArrayList<>();
        List<AclBinding> acls = new ArrayList<>();
        List<NewTopic> topics = new ArrayList<>();
        var lines = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = lines.readLine()) != null; ) {
            String[] f = line.trim().split("\\s+");
            if (f[0].equals("topic") && f.length == 2) {
                topics.add(new NewTopic(f[1], Optional.of(3), Optional.empty()).configs(Map.of("retention.ms", "-1")));
            } else if (f[0].equals("user") && f.length == 3) {
                users.add(new UserScramCredentialUpsertion(
                        f[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), f[2]));
            } else if (f[0].equals("allow") && f.length == 6) {
                acls.add(new AclBinding(
                        new ResourcePattern(ResourceType.fromString(f[2]), f[4], PatternType.fromString(f[3].toUpperCase(Locale.ROOT))),
                        new AccessControlEntry("User:" + f[1], "*", AclOperation.fromString(f[5]), AclPermissionType.ALLOW)));
            } else if (!f[0].isEmpty()) {
                throw new IllegalArgumentException("not a topic, user or allow line: " + f[0] + " ...");
            }
        }
        try (Admin admin = Admin.create(config)) {
            for (var created : admin.createTopics(topics).values().values()) {
                try {
                    created.get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                }
            }
            if (!users.isEmpty()) admin.alterUserScramCredentials(users).all().get();
            if (!acls.isEmpty()) admin.createAcls(acls).all().get();
        }
        System.err.printf("[stack] %d topics, %d SCRAM credentials and %d ACLs in place%n",
                topics.size(), users.size(), acls.size());
    }
}
