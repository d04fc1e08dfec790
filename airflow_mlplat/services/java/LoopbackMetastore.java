// A Hive 2.3 metastore (the classes in the pyspark wheel) whose thrift server binds one address.
//
// HiveMetaStore.main binds every interface and has no bind-host setting, so this starts the same
// handler on a TServerSocket bound to the given address. Run as a single-file source program:
//   java -cp "$SPARK_HOME/jars/*" LoopbackMetastore.java HOST PORT DERBY_DIR WAREHOUSE_DIR
// Plain binary thrift (no SASL, no framing): what Spark's Hive client and Airflow's
// HiveMetastoreHook (auth NOSASL) speak.

import java.net.InetSocketAddress;

import org.apache.hadoop.hive.conf.HiveConf;
import org.apache.hadoop.hive.metastore.HiveMetaStore;
import org.apache.hadoop.hive.metastore.IHMSHandler;
import org.apache.hadoop.hive.metastore.RetryingHMSHandler;
import org.apache.hadoop.hive.metastore.api.ThriftHiveMetastore;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransportFactory;

public class LoopbackMetastore {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: LoopbackMetastore HOST PORT DERBY_DIR WAREHOUSE_DIR");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        HiveConf conf = new HiveConf(HiveMetaStore.HMSHandler.class);
        conf.set("javax.jdo.option.ConnectionURL", "jdbc:derby:;databaseName=" + args[2] + ";create=true");
        conf.set("javax.jdo.option.ConnectionDriverName", "org.apache.derby.jdbc.EmbeddedDriver");
        conf.set("hive.metastore.warehouse.dir", args[3]);
        conf.set("hive.metastore.schema.verification", "false");
        conf.set("datanucleus.schema.autoCreateAll", "true");
        conf.set("hive.metastore.uris", "");
        // Hive 2.3 defaults to BoneCP, whose jar the pyspark wheel does not carry; HikariCP it does.
        conf.set("datanucleus.connectionPoolingType", "HikariCP");

        HiveMetaStore.HMSHandler base = new HiveMetaStore.HMSHandler("loopback metastore", conf, false);
        IHMSHandler handler = RetryingHMSHandler.getProxy(conf, base, false);
        handler.init();
        TServerSocket socket = new TServerSocket(new InetSocketAddress(host, port));
        TThreadPoolServer.Args serverArgs = new TThreadPoolServer.Args(socket)
                .processor(new ThriftHiveMetastore.Processor<>(handler))
                .transportFactory(new TTransportFactory())
                .protocolFactory(new TBinaryProtocol.Factory())
                .minWorkerThreads(4)
                .maxWorkerThreads(64);
        TThreadPoolServer server = new TThreadPoolServer(serverArgs);
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
        System.out.println("metastore listening on " + host + ":" + port);
        server.serve();
    }
}
