package org.mlplat.flink.parquet;

import java.util.HashMap;
import java.util.List;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/** Flat rows of scalar columns, each optional (SQL NULL is an absent value). */
final class RowDataWriteSupport extends WriteSupport<RowData> {
    private final RowType rowType;
    private final List<RowType.RowField> fields;
    private RecordConsumer consumer;

    RowDataWriteSupport(RowType rowType) {
        this.rowType = rowType;
        this.fields = rowType.getFields();
    }

    static MessageType schemaOf(RowType rowType) {
        Types.MessageTypeBuilder message = Types.buildMessage();
        for (RowType.RowField field : rowType.getFields()) {
            LogicalType type = field.getType();
            String name = field.getName();
            switch (type.getTypeRoot()) {
                case BOOLEAN -> message.optional(PrimitiveTypeName.BOOLEAN).named(name);
                case TINYINT -> message.optional(PrimitiveTypeName.INT32)
                        .as(LogicalTypeAnnotation.intType(8, true)).named(name);
                case SMALLINT -> message.optional(PrimitiveTypeName.INT32)
                        .as(LogicalTypeAnnotation.intType(16, true)).named(name);
                case INTEGER -> message.optional(PrimitiveTypeName.INT32).named(name);
                case BIGINT -> message.optional(PrimitiveTypeName.INT64).named(name);
                case FLOAT -> message.optional(PrimitiveTypeName.FLOAT).named(name);
                case DOUBLE -> message.optional(PrimitiveTypeName.DOUBLE).named(name);
                case CHAR, VARCHAR -> message.optional(PrimitiveTypeName.BINARY)
                        .as(LogicalTypeAnnotation.stringType()).named(name);
                case DATE -> message.optional(PrimitiveTypeName.INT32)
                        .as(LogicalTypeAnnotation.dateType()).named(name);
                case TIMESTAMP_WITHOUT_TIME_ZONE -> message.optional(PrimitiveTypeName.INT64)
                        .as(LogicalTypeAnnotation.timestampType(false, LogicalTypeAnnotation.TimeUnit.MICROS))
                        .named(name);
                default -> throw new ValidationException(
                        "mlplat-parquet: column '" + name + "' has type " + type
                                + "; supported: BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE,"
                                + " CHAR/VARCHAR, DATE, TIMESTAMP");
            }
        }
        return message.named("flink_schema");
    }

    @Override
    public WriteContext init(Configuration configuration) {
        return new WriteContext(schemaOf(rowType), new HashMap<>());
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.consumer = recordConsumer;
    }

    @Override
    public void write(RowData row) {
        consumer.startMessage();
        for (int i = 0; i < fields.size(); i++) {
            if (row.isNullAt(i)) {
                continue;
            }
            RowType.RowField field = fields.get(i);
            consumer.startField(field.getName(), i);
            LogicalType type = field.getType();
            switch (type.getTypeRoot()) {
                case BOOLEAN -> consumer.addBoolean(row.getBoolean(i));
                case TINYINT -> consumer.addInteger(row.getByte(i));
                case SMALLINT -> consumer.addInteger(row.getShort(i));
                case INTEGER, DATE -> consumer.addInteger(row.getInt(i));
                case BIGINT -> consumer.addLong(row.getLong(i));
                case FLOAT -> consumer.addFloat(row.getFloat(i));
                case DOUBLE -> consumer.addDouble(row.getDouble(i));
                case CHAR, VARCHAR -> consumer.addBinary(Binary.fromReusedByteArray(row.getString(i).toBytes()));
                case TIMESTAMP_WITHOUT_TIME_ZONE -> {
                    TimestampData ts = row.getTimestamp(i, ((org.apache.flink.table.types.logical.TimestampType) type).getPrecision());
                    consumer.addLong(ts.getMillisecond() * 1000L + ts.getNanoOfMillisecond() / 1000);
                }
                default -> throw new IllegalStateException("unsupported type " + type);
            }
            consumer.endField(field.getName(), i);
        }
        consumer.endMessage();
    }
}
