// Scenarios: the list, and the editor that draws blocks and their exits as a graph.
// A block's settings and where each exit leads are edited beside the graph (or by
// dragging an exit onto a block); problems the server finds are shown on the blocks.
// Drafts are saved freely; publishing makes a draft the version new calls follow.
import { useCallback, useEffect, useMemo, useState } from "react";
import {
  Alert, App, AutoComplete, Button, Card, Form, Input, InputNumber, List, Modal, Select, Space, Switch, Table, Tag, Typography,
} from "antd";
import {
  applyNodeChanges, Background, Controls, Handle, Position, ReactFlow, type Connection, type ReactFlowInstance, type Edge, type Node, type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useTranslation } from "react-i18next";
import { Route, Routes, useBlocker, useNavigate, useParams } from "react-router";
import { api, ApiError, type Schemas } from "../api/client";
import {
  BLOCK_TYPES, exitsOf, layout, membersFromText, membersToText, newBlock, type Block, type Scenario,
} from "./scenarioModel";

type Draft = Schemas["ScenarioDraft"];
type Problem = { field: string; message: string };

export default function Scenarios() {
  return (
    <Routes>
      <Route index element={<ScenarioList />} />
      <Route path=":name" element={<Editor />} />
    </Routes>
  );
}

function ScenarioList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [items, setItems] = useState<Schemas["ScenarioSummary"][]>([]);
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);

  useEffect(() => {
    void api.get<Schemas["ScenarioSummary"][]>("/api/scenarios").then(setItems);
  }, []);

  // A new scenario never replaces one of the same name: the server refuses it.
  const create = async () => {
    const draft: Scenario = { name, start: "start", blocks: { start: { type: "hang-up", exits: {} } } };
    try {
      await api.post("/api/scenarios", draft);
      navigate(`/scenarios/${encodeURIComponent(name)}`);
    } catch (e) {
      setNameError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <>
      <Space style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t("scenarios")}
        </Typography.Title>
        <Button type="primary" onClick={() => setNaming(true)}>
          {t("newScenario")}
        </Button>
      </Space>
      <Table
        rowKey="name"
        dataSource={items}
        columns={[
          { title: t("name"), dataIndex: "name" },
          { title: t("version"), dataIndex: "version", render: (v?: number | null) => v ?? "—" },
          {
            title: "",
            key: "changes",
            render: (_, s) => (s.unpublished_changes ? <Tag color="orange">{t("unpublished")}</Tag> : null),
          },
          {
            title: t("actions"),
            key: "open",
            render: (_, s) => (
              <Button size="small" onClick={() => navigate(`/scenarios/${encodeURIComponent(s.name)}`)}>
                {t("open")}
              </Button>
            ),
          },
        ]}
      />
      <Modal
        open={naming}
        title={t("newScenario")}
        onOk={create}
        onCancel={() => setNaming(false)}
        okButtonProps={{ disabled: !name.trim() }}
      >
        <Form.Item validateStatus={nameError ? "error" : undefined} help={nameError} style={{ margin: 0 }}>
          <Input
            aria-label={t("name")}
            placeholder={t("name")}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setNameError(null);
            }}
          />
        </Form.Item>
      </Modal>
    </>
  );
}

type BlockNodeData = { id: string; block: Block; problems: string[]; start: boolean };

function BlockNode({ data, selected }: NodeProps<Node<BlockNodeData>>) {
  const exits = exitsOf(data.block);
  const summary = BLOCK_TYPES[data.block.type]
    ?.filter((s) => s.kind === "text" || s.kind === "number")
    .map((s) => `${s.key}: ${String(data.block[s.key] ?? "")}`)
    .join(", ");
  return (
    <div
      data-testid={`block-${data.id}`}
      style={{
        background: "#fff",
        border: `2px solid ${data.problems.length ? "#ff4d4f" : selected ? "#1677ff" : "#d9d9d9"}`,
        borderRadius: 8,
        padding: "8px 12px",
        minWidth: 180,
        fontSize: 12,
      }}
    >
      <Handle type="target" position={Position.Left} />
      <div style={{ fontWeight: 600 }}>
        {data.start && "▶ "}
        {data.id}
      </div>
      <div style={{ color: "#888" }}>{data.block.type}</div>
      {summary && <div>{summary}</div>}
      {data.problems.map((p) => (
        <div key={p} style={{ color: "#ff4d4f" }}>
          {p}
        </div>
      ))}
      {exits.map((exit) => (
        <div key={exit} style={{ textAlign: "right", position: "relative" }}>
          {exit}
          <Handle type="source" id={exit} position={Position.Right} style={{ right: -12 }} />
        </div>
      ))}
    </div>
  );
}

const nodeTypes = { block: BlockNode };

function Editor() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const name = useParams().name ?? "";
  const [scenario, setScenario] = useState<Scenario | null>(null);
  const [meta, setMeta] = useState<Omit<Draft, "draft" | "problems"> | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [positions, setPositions] = useState<Record<string, { x: number; y: number }>>({});
  const [selected, setSelected] = useState<string | null>(null);
  const [adding, setAdding] = useState<{ id: string; type: string } | null>(null);
  const [flow, setFlow] = useState<ReactFlowInstance<Node<BlockNodeData>> | null>(null);
  const [prompts, setPrompts] = useState<string[]>([]);
  useEffect(() => {
    void api.get<Schemas["PromptInfo"][]>("/api/prompts").then((all) => setPrompts(all.map((p) => p.name)));
  }, []);

  /** Lays the blocks out again by their distance from the start, and shows them all. */
  const arrange = () => {
    if (!scenario) return;
    const placed = layout(scenario);
    setNodes((ns) => ns.map((n) => ({ ...n, position: placed[n.id] ?? n.position })));
    window.setTimeout(() => void flow?.fitView(), 50);
  };

  // The draft as the server last had it: anything else is work that leaving would lose.
  const [saved, setSaved] = useState("");
  const take = useCallback((draft: Draft) => {
    setScenario(draft.draft);
    setSaved(JSON.stringify(draft.draft));
    setProblems(draft.problems);
    setMeta({ version: draft.version, unpublished_changes: draft.unpublished_changes });
    setPositions((p) => ({ ...layout(draft.draft), ...p }));
  }, []);

  useEffect(() => {
    void api.get<Draft>(`/api/scenarios/${encodeURIComponent(name)}`).then(take);
  }, [name, take]);

  // Worked out when the scenario changes, not on every render (dragging a block renders
  // the editor each frame).
  const unsaved = useMemo(() => scenario !== null && JSON.stringify(scenario) !== saved, [scenario, saved]);
  const leaving = useBlocker(
    ({ currentLocation, nextLocation }) => unsaved && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (!unsaved) return;
    // Closing or reloading the tab: the browser asks in its own words.
    const ask = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [unsaved]);

  // One object while the scenario is unchanged: the nodes below follow it, and a fresh
  // empty object on every render (before the draft has loaded) made them loop.
  const blocks = useMemo(() => (scenario?.blocks ?? {}) as Record<string, Block>, [scenario]);
  const setBlock = (id: string, block: Block) =>
    setScenario((s) => (s ? { ...s, blocks: { ...s.blocks, [id]: block } as Scenario["blocks"] } : s));

  // A problem with the block as a whole ("blocks.x": nothing leads to it, a loop starts
  // there) is shown on it as well as one with a setting ("blocks.x.prompt").
  const blockProblems = (id: string) =>
    problems
      .filter((p) => p.field === `blocks.${id}` || p.field.startsWith(`blocks.${id}.`))
      .map((p) => (p.field === `blocks.${id}` ? p.message : `${p.field.slice(8 + id.length)}: ${p.message}`));
  const general = problems.filter((p) => !p.field.startsWith("blocks."));

  // React Flow measures nodes before it shows them: the nodes live in its own state
  // (positions, sizes, selection), and the scenario's blocks are laid over it.
  const [nodes, setNodes] = useState<Node<BlockNodeData>[]>([]);
  useEffect(() => {
    setNodes((old) =>
      Object.entries(blocks).map(([id, block]) => {
        const previous = old.find((n) => n.id === id);
        return {
          ...(previous ?? { id, type: "block", position: positions[id] ?? { x: 0, y: 0 } }),
          data: { id, block, problems: blockProblems(id), start: scenario?.start === id },
        };
      }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [blocks, positions, problems, scenario?.start]);
  const edges: Edge[] = Object.entries(blocks).flatMap(([id, block]) =>
    Object.entries(block.exits ?? {}).map(([exit, to]) => ({
      id: `${id}:${exit}`,
      source: id,
      sourceHandle: exit,
      target: to,
      label: exit,
    })),
  );

  const connect = (c: Connection) => {
    if (!c.source || !c.target || !c.sourceHandle) return;
    const block = blocks[c.source];
    setBlock(c.source, { ...block, exits: { ...(block.exits ?? {}), [c.sourceHandle]: c.target } });
  };

  const save = async () => {
    if (!scenario) return;
    take(await api.put<Draft>(`/api/scenarios/${encodeURIComponent(name)}`, scenario));
    void message.success(t("draftSaved"));
  };

  const publish = async () => {
    if (!scenario) return;
    take(await api.put<Draft>(`/api/scenarios/${encodeURIComponent(name)}`, scenario));
    try {
      const draft = await api.post<Draft>(`/api/scenarios/${encodeURIComponent(name)}/publish`);
      take(draft);
      void message.success(t("published", { version: draft.version }));
    } catch (e) {
      if (e instanceof ApiError) setProblems(e.errors);
      void message.error(e instanceof Error ? e.message : String(e));
    }
  };

  if (!scenario) return null;
  const block = selected ? blocks[selected] : undefined;
  const ids = Object.keys(blocks);

  return (
    <div style={{ display: "flex", gap: 16, height: "calc(100vh - 48px)" }}>
      <Modal
        open={leaving.state === "blocked"}
        title={t("leaveUnsaved")}
        okText={t("leave")}
        cancelText={t("stay")}
        onOk={() => leaving.proceed?.()}
        onCancel={() => leaving.reset?.()}
      >
        {t("leaveUnsavedBody")}
      </Modal>
      <div style={{ flex: 1, display: "flex", flexDirection: "column" }}>
        <Space wrap style={{ marginBottom: 12 }}>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {scenario.name}
          </Typography.Title>
          {meta?.version != null && <Tag>{t("published", { version: meta.version })}</Tag>}
          {meta?.unpublished_changes && <Tag color="orange">{t("unpublished")}</Tag>}
          {unsaved && <Tag color="red">{t("notSaved")}</Tag>}
          <span>{t("start")}:</span>
          <Select
            showSearch
            aria-label={t("start")}
            style={{ width: 160 }}
            value={scenario.start}
            onChange={(start: string) => setScenario({ ...scenario, start })}
            options={ids.map((id) => ({ value: id, label: id }))}
          />
          <Button onClick={() => setAdding({ id: "", type: "menu" })}>{t("addBlock")}</Button>
          <Button onClick={arrange}>{t("arrange")}</Button>
          <Button onClick={save}>{t("saveDraft")}</Button>
          <Button type="primary" onClick={publish}>
            {t("publish")}
          </Button>
        </Space>
        {general.length > 0 && (
          <Alert
            type="error"
            style={{ marginBottom: 8 }}
            title={general.map((p) => `${p.field}: ${p.message}`).join("; ")}
          />
        )}
        <div style={{ flex: 1, border: "1px solid #eee", borderRadius: 8 }}>
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onConnect={connect}
            onInit={setFlow}
            onNodeClick={(_, node) => setSelected(node.id)}
            onNodesChange={(changes) => setNodes((ns) => applyNodeChanges(changes, ns))}
            fitView
          >
            <Background />
            <Controls />
          </ReactFlow>
        </div>
      </div>
      <Card style={{ width: 340, overflow: "auto" }} title={block ? `${selected} (${block.type})` : t("blocks")}>
        {!block && (
          <List
            size="small"
            dataSource={ids}
            renderItem={(id) => (
              <List.Item onClick={() => setSelected(id)} style={{ cursor: "pointer" }}>
                {id} <Tag>{blocks[id].type}</Tag>
                {blockProblems(id).length > 0 && <Tag color="red">{blockProblems(id).length}</Tag>}
              </List.Item>
            )}
          />
        )}
        {block && selected && (
          <BlockForm
            key={selected}
            id={selected}
            block={block}
            ids={ids}
            prompts={prompts}
            problems={blockProblems(selected)}
            onChange={(b) => setBlock(selected, b)}
            onDelete={() => {
              const rest = { ...blocks };
              delete rest[selected];
              setScenario({ ...scenario, blocks: rest as Scenario["blocks"] });
              setSelected(null);
            }}
            onClose={() => setSelected(null)}
          />
        )}
        {!block && problems.length === 0 && meta && <Typography.Text type="success">{t("noProblems")}</Typography.Text>}
      </Card>
      <Modal
        open={adding !== null}
        title={t("addBlock")}
        okButtonProps={{ disabled: !adding?.id.trim() || (adding?.id ?? "") in blocks }}
        onCancel={() => setAdding(null)}
        onOk={() => {
          if (!adding) return;
          setBlock(adding.id, newBlock(adding.type));
          // Beside the rightmost block; "Arrange" lays everything out by the exits.
          const right = Math.max(0, ...nodes.map((n) => n.position.x + 300));
          setPositions((p) => ({ ...p, [adding.id]: { x: right, y: 0 } }));
          window.setTimeout(() => void flow?.fitView(), 50);
          setSelected(adding.id);
          setAdding(null);
        }}
      >
        <Form layout="vertical">
          <Form.Item label={t("blockId")}>
            <Input
              aria-label={t("blockId")}
              value={adding?.id}
              onChange={(e) => setAdding((a) => a && { ...a, id: e.target.value.trim() })}
            />
          </Form.Item>
          <Form.Item label={t("blockType")}>
            <Select
              showSearch
              aria-label={t("blockType")}
              value={adding?.type}
              onChange={(type: string) => setAdding((a) => a && { ...a, type })}
              options={Object.keys(BLOCK_TYPES).map((type) => ({ value: type, label: type }))}
            />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}

function BlockForm(props: {
  id: string;
  block: Block;
  ids: string[];
  /** Built-in and uploaded prompts, offered for the prompt setting. */
  prompts: string[];
  problems: string[];
  onChange: (block: Block) => void;
  onDelete: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { block, onChange } = props;
  const set = (key: string, value: unknown) => onChange({ ...block, [key]: value });
  return (
    <Form layout="vertical" size="small">
      {props.problems.map((p) => (
        <Alert key={p} type="error" title={p} style={{ marginBottom: 8 }} />
      ))}
      {BLOCK_TYPES[block.type]?.map((setting) => (
        <Form.Item key={setting.key} label={t(setting.label)}>
          {setting.kind === "text" && setting.key === "prompt" && (
            <AutoComplete
              aria-label="prompt"
              value={String(block.prompt ?? "")}
              onChange={(v: string) => set("prompt", v)}
              options={props.prompts.map((p) => ({ value: p }))}
              filterOption={(input, option) => String(option?.value ?? "").includes(input)}
            />
          )}
          {setting.kind === "text" && setting.key !== "prompt" && (
            <Input
              aria-label={setting.key}
              value={String(block[setting.key] ?? "")}
              onChange={(e) => set(setting.key, e.target.value)}
            />
          )}
          {setting.kind === "number" && (
            <InputNumber
              aria-label={setting.key}
              value={block[setting.key] as number}
              onChange={(v) => set(setting.key, v ?? 0)}
            />
          )}
          {setting.kind === "bool" && (
            <Switch checked={Boolean(block[setting.key])} onChange={(v) => set(setting.key, v)} />
          )}
          {setting.kind === "mode" && (
            <Select
              value={block.mode as string}
              onChange={(v) => set("mode", v)}
              options={["all-at-once", "in-order", "random"].map((m) => ({ value: m, label: m }))}
            />
          )}
          {setting.kind === "members" && (
            <Input.TextArea
              aria-label="members"
              rows={4}
              defaultValue={membersToText(block.members)}
              onChange={(e) => set("members", membersFromText(e.target.value))}
            />
          )}
        </Form.Item>
      ))}
      {exitsOf(block).length > 0 && <Typography.Text strong>{t("exits")}</Typography.Text>}
      {exitsOf(block).map((exit) => (
        <Form.Item key={exit} label={`${exit} → ${t("leadsTo")}`}>
          <Select
            showSearch
            aria-label={`exit ${exit}`}
            allowClear
            placeholder={t("nowhere")}
            value={block.exits?.[exit]}
            onChange={(to?: string) => {
              const exits = { ...(block.exits ?? {}) };
              if (to) exits[exit] = to;
              else delete exits[exit];
              onChange({ ...block, exits });
            }}
            options={props.ids.map((id) => ({ value: id, label: id }))}
          />
        </Form.Item>
      ))}
      <Space>
        <Button onClick={props.onClose}>OK</Button>
        <Button danger onClick={props.onDelete}>
          {t("delete")}
        </Button>
      </Space>
    </Form>
  );
}
