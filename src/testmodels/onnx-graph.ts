/**
 * A small builder of ONNX graphs over onnx-proto's generated protobuf classes: named values,
 * nodes with attributes, float32/int64 initializers, `If` branches, and the model wrapper with its opset.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Onnx = typeof onnx;
type NodeProto = ReturnType<Onnx['NodeProto']['create']>;
type TensorProto = ReturnType<Onnx['TensorProto']['create']>;
type ValueInfoProto = ReturnType<Onnx['ValueInfoProto']['create']>;
type GraphProto = ReturnType<Onnx['GraphProto']['create']>;

/** Element types used by the generated models (TensorProto.DataType ids). */
export const ONNX_TYPES = { float32: 1, int64: 7, bool: 9 } as const;
export type OnnxElementType = keyof typeof ONNX_TYPES;

/** A dimension: a fixed size or a symbolic name such as `batch_size`. */
export type OnnxDim = number | string;

export type OnnxAttribute = number | readonly number[] | { float: number } | { graph: GraphProto };

/** A graph output: its name, element type and shape. */
export interface OnnxValueSpec {
  name: string;
  type: OnnxElementType;
  shape: readonly OnnxDim[];
}

function attribute(name: string, value: OnnxAttribute) {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
  if ('graph' in value) return onnx.AttributeProto.create({ name, type: AttributeType.GRAPH, g: value.graph });
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

/**
 * What a graph shares with the branches built inside it: initializers live in the outermost graph
 * (branches read them from the outer scope), and value names are unique across all of them.
 */
interface GraphScope {
  initializers: TensorProto[];
  counter: number;
  parameterCount: number;
}

/** Builds one graph; every value is named by the builder, so callers only pass names along. */
export class OnnxGraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly scope: GraphScope;

  constructor(scope?: GraphScope) {
    this.scope = scope ?? { initializers: [], counter: 0, parameterCount: 0 };
  }

  /** Parameters held by float initializers. */
  get parameterCount(): number {
    return this.scope.parameterCount;
  }

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
    this.scope.parameterCount += values.length;
    this.scope.initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: ONNX_TYPES.float32,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    }));
    return name;
  }

  /** A constant (shapes, axes, scalars); not counted as parameters. */
  constant(values: readonly number[], type: OnnxElementType, dims: readonly number[] = [values.length]): string {
    const name = `const_${this.scope.counter++}`;
    const raw = type === 'int64' ? new BigInt64Array(values.map(BigInt)) : new Float32Array(values);
    this.scope.initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: ONNX_TYPES[type], rawData: new Uint8Array(raw.buffer),
    }));
    return name;
  }

  /** Adds a node and returns the name of its (single) output. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}): string {
    const name = `${opType.toLowerCase()}_${this.scope.counter++}`;
    this.nodes.push(onnx.NodeProto.create({
      name, opType, input: [...inputs], output: [name],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    }));
    return name;
  }

  /**
   * An `If` node: runs the nodes `thenBranch` builds when the bool `condition` holds, else those of
   * `elseBranch`; each returns one value per entry of `outputs`, and the node's outputs get those names.
   * Branches read the outer graph's values by name; weights they add go to the outer graph.
   */
  ifElse(condition: string, outputs: readonly OnnxValueSpec[], thenBranch: (g: OnnxGraphBuilder) => readonly string[], elseBranch: (g: OnnxGraphBuilder) => readonly string[]): string[] {
    const id = this.scope.counter++;
    const branch = (label: string, build: (g: OnnxGraphBuilder) => readonly string[]): GraphProto => {
      const g = new OnnxGraphBuilder(this.scope);
      const values = build(g);
      if (values.length !== outputs.length) throw new Error(`the ${label} branch gives ${values.length} values for ${outputs.length} outputs`);
      outputs.forEach(({ name, type, shape }, i) => g.output(values[i]!, `${name}_${label}_${id}`, type, shape));
      return onnx.GraphProto.create({ name: `${label}_${id}`, node: g.nodes, output: g.outputs });
    };
    this.nodes.push(onnx.NodeProto.create({
      name: `if_${id}`, opType: 'If', input: [condition], output: outputs.map((o) => o.name),
      attribute: [attribute('then_branch', { graph: branch('then', thenBranch) }), attribute('else_branch', { graph: branch('else', elseBranch) })],
    }));
    return outputs.map((o) => o.name);
  }

  /** Encodes the model with the given opset of the default domain. */
  encode({ name, opset }: { name: string; opset: number }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'model-manager testmodels',
      opsetImport: [{ domain: '', version: opset }],
      graph: { name, node: this.nodes, initializer: this.scope.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
