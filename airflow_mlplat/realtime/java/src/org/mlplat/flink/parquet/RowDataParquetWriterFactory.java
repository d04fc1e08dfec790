package org.mlplat.flink.parquet;

import java.io.IOException;

import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;

/** One Parquet file per part file: Flink hands the stream, finish() writes the footer. */
public class RowDataParquetWriterFactory implements BulkWriter.Factory<RowData> {
    private final RowType rowType;
    private final String codec;

    public RowDataParquetWriterFactory(RowType rowType, String codec) {
        RowDataWriteSupport.schemaOf(rowType); // fail at planning time, naming the column
        try {
            CompressionCodecName.valueOf(codec);
        } catch (IllegalArgumentException e) {
            throw new ValidationException("mlplat-parquet: unknown compression '" + codec + "'");
        }
        this.rowType = rowType;
        this.codec = codec;
    }

    @Override
    public BulkWriter<RowData> create(FSDataOutputStream out) throws IOException {
        ParquetWriter<RowData> writer = new Builder(new StreamOutputFile(out), rowType)
                .withCompressionCodec(CompressionCodecName.valueOf(codec))
                .withConf(new Configuration(false))
                .build();
        return new BulkWriter<>() {
            @Override
            public void addElement(RowData row) throws IOException {
                writer.write(row);
            }

            @Override
            public void flush() {
                // Row groups are flushed by the writer; a part file is only readable once finished.
            }

            @Override
            public void finish() throws IOException {
                writer.close(); // writes the footer; StreamOutputFile leaves Flink's stream open
            }
        };
    }

    private static final class Builder extends ParquetWriter.Builder<RowData, Builder> {
        private final RowType rowType;

        Builder(OutputFile file, RowType rowType) {
            super(file);
            this.rowType = rowType;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<RowData> getWriteSupport(Configuration conf) {
            return new RowDataWriteSupport(rowType);
        }
    }
}
