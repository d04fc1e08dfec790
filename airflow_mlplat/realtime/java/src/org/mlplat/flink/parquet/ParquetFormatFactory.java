// A Parquet bulk format for Flink's filesystem connector ('format' = 'mlplat-parquet').
//
// Flink's own 'parquet' format (flink-sql-parquet) is a Maven artifact that neither the
// apache-flink wheel nor this project's registries carry. This format writes the same files
// with parquet-mr from the pyspark wheel, so the connector's rolling, checkpoint commit and
// partition-commit machinery stay Flink's. On a cluster that has flink-sql-parquet, set
// format 'parquet' instead: the files are read the same way.
package org.mlplat.flink.parquet;

import java.util.Set;

import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.file.table.factories.BulkWriterFormatFactory;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.EncodingFormat;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;

public class ParquetFormatFactory implements BulkWriterFormatFactory {
    public static final String IDENTIFIER = "mlplat-parquet";

    public static final ConfigOption<String> COMPRESSION =
            ConfigOptions.key("compression").stringType().defaultValue("SNAPPY")
                    .withDescription("Parquet codec: UNCOMPRESSED, SNAPPY, GZIP or ZSTD.");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(COMPRESSION);
    }

    @Override
    public EncodingFormat<BulkWriter.Factory<RowData>> createEncodingFormat(
            DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        FactoryUtil.validateFactoryOptions(this, formatOptions);
        String codec = formatOptions.get(COMPRESSION).toUpperCase();
        return new EncodingFormat<>() {
            @Override
            public BulkWriter.Factory<RowData> createRuntimeEncoder(
                    DynamicTableSink.Context sinkContext, DataType consumedDataType) {
                RowType rowType = (RowType) consumedDataType.getLogicalType();
                return new RowDataParquetWriterFactory(rowType, codec);
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.insertOnly();
            }
        };
    }
}
