/**
 * A small builder of ONNX graphs over onnx-proto's generated protobuf classes: named values,
 * nodes with attributes, float32/int64 initializers, and the model wrapper with its opset.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Onnx = typeof onnx;
type NodeProto = ReturnType<Onnx['NodeProto']['create']>;
type TensorProto = ReturnType<Onnx['TensorProto']['create']>;
type ValueInfoProto = ReturnType<Onnx['ValueInfoProto']['create']>;

/** Element types used by the generated models (TensorProto.DataType ids). */
export const ONNX_TYPES = { float32: 1, int64: 7 } as const;
export type OnnxElementType = keyof typeof ONNX_TYPES;

/** A dimension: a fixed size or a symbolic name such as `batch_size`. */
export type OnnxDim = number | string;

export type OnnxAttribute = number | readonly number[] | { float: number };

function attribute(name: string, value: OnnxAttribute) {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...value] });
}

function valueInfo(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ONNX_TYPES[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Builds one graph; every value is named by the builder, so callers only pass names along. */
export class OnnxGraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private counter = 0;
  /** Parameters held by float initializers. */
  parameterCount = 0;

  input(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Marks `value` as the graph output `name` (through an Identity node when the names differ). */
  output(value: string, name: string, type: OnnxElementType, shape: readonly OnnxDim[]): void {
    if (value !== name) this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name: `${name}_identity` }));
    this.outputs.push(valueInfo(name, type, shape));
  }

  /** A float32 weight; counted as parameters. */
  weight(name: string, dims: readonly number[], values: Float32Array): string {
    this.parameterCount += values.length;
    this.initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: ONNX_TYPES.float32,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    }));
    return name;
  }

  /** A constant (shapes, axes, scalars); not counted as parameters. */
  constant(values: readonly number[], type: OnnxElementType, dims: readonly number[] = [values.length]): string {
    const name = `const_${this.counter++}`;
    const raw = type === 'int64' ? new BigInt64Array(values.map(BigInt)) : new Float32Array(values);
    this.initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: ONNX_TYPES[type], rawData: new Uint8Array(raw.buffer),
    }));
    return name;
  }

  /** Adds a node and returns the name of its (single) output. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}): string {
    const name = `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push(onnx.NodeProto.create({
      name, opType, input: [...inputs], output: [name],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    }));
    return name;
  }

  /** Encodes the model with the given opset of the default domain. */
  encode({ name, opset }: { name: string; opset: number }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'model-manager testmodels',
      opsetImport: [{ domain: '', version: opset }],
      graph: { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
