//! Compiling stages into DataFusion plans.
//!
//! [`plan_steps`] walks the stages in order, asks each for its [`StagePlan`] against the
//! columns available at that point, type-checks every layer through DataFusion's own planner,
//! and records the result as a list of [`Step`]s: projections appending columns, filters, and
//! selects (a stage replacing, dropping or choosing its output columns). The steps then lower two ways:
//!
//! * [`apply_steps`]: a `LogicalPlan` (projections and filters over any input plan) — the path
//!   for files, SQL and embedding, where DataFusion streams, parallelises and optimises;
//! * [`CompiledPipeline`]: physical expressions evaluated directly on a `RecordBatch`, stage by
//!   stage — the path for request/response scoring, with no planning per call.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, RecordBatchOptions};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, DFSchemaRef, TableReference};
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    EmptyRelation, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Projection, ScalarUDF,
};
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};
use ember_udfs::StageError;

use crate::error::{EmberError, Result};
use crate::stage::{ColumnSpec, INTERNAL_COLUMN_PREFIX, Stage, StageContext, short_class};

/// One step of a compiled pipeline, relative to the schema before it.
#[derive(Debug, Clone)]
pub enum Step {
    /// Append the named columns, computed from the columns before the step.
    Project {
        /// Schema before the step.
        input: DFSchemaRef,
        /// Schema after the step.
        output: DFSchemaRef,
        /// New columns.
        columns: Vec<(String, Expr)>,
    },
    /// Replace the columns by exactly these, computed from the columns before the step (a
    /// column kept as it is is a plain column reference).
    Select {
        /// Schema before the step.
        input: DFSchemaRef,
        /// Schema after the step.
        output: DFSchemaRef,
        /// Every column after the step, in order.
        columns: Vec<(String, Expr)>,
    },
    /// Keep the rows where the predicate is true.
    Filter {
        /// Schema before (and after) the step.
        input: DFSchemaRef,
        /// The predicate.
        predicate: Expr,
    },
}

/// The pipeline compiled against one input schema.
#[derive(Debug, Clone)]
pub struct PipelineSteps {
    /// The input schema.
    pub input: DFSchemaRef,
    /// The output schema.
    pub output: DFSchemaRef,
    /// Steps, each tagged with the index of the stage it belongs to.
    pub steps: Vec<(usize, Step)>,
}

impl PipelineSteps {
    /// Every UDF the steps call, once each.
    pub fn udfs(&self) -> Vec<Arc<ScalarUDF>> {
        let mut out: Vec<Arc<ScalarUDF>> = Vec::new();
        let mut visit = |e: &Expr| {
            let _ = e.apply(|node| {
                if let Expr::ScalarFunction(f) = node
                    && !out.iter().any(|u| u.name() == f.func.name())
                {
                    out.push(Arc::clone(&f.func));
                }
                Ok(TreeNodeRecursion::Continue)
            });
        };
        for (_, step) in &self.steps {
            match step {
                Step::Project { columns, .. } | Step::Select { columns, .. } => {
                    columns.iter().for_each(|(_, e)| visit(e))
                }
                Step::Filter { predicate, .. } => visit(predicate),
            }
        }
        out
    }
}

impl PipelineSteps {
    /// The steps restricted to what computing `outputs` takes, with single-use intermediate
    /// columns fused into the expressions that consume them.
    ///
    /// * Pruning: a column no requested output depends on is not computed. Filters
    ///   (`handleInvalid = skip`) are always kept, with the columns their predicates read, so
    ///   the same rows survive as with the full pipeline.
    /// * Fusion: a column read exactly once, by a later column in the same stretch between
    ///   filters, is substituted into its reader instead of being materialised (e.g.
    ///   `IndexToString(predict(VectorAssembler(OneHotEncoder(StringIndexer(x)))))` becomes one
    ///   nested expression). Columns read twice or more are computed once and kept.
    ///
    /// * Selects (a stage's `replace`, `drop` or `select`) are always kept, with the columns
    ///   that are needed after them, so the columns they remove stay removed.
    ///
    /// The result's output schema holds the input columns the pipeline keeps, the requested
    /// outputs and any intermediate column that had to be kept; every name in `outputs` must be
    /// an input column or a stage output. Columns are matched by name: a column replaced in
    /// place, or dropped and defined again, is one name, which only makes fusion more
    /// conservative.
    pub fn for_outputs(&self, outputs: &[&str]) -> Result<PipelineSteps> {
        for name in outputs {
            if self.output.field_with_unqualified_name(name).is_err() {
                let available: Vec<&str> = self
                    .output
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                return Err(EmberError::Data {
                    context: format!("column '{name}'"),
                    message: format!(
                        "the pipeline does not produce this column (columns: {})",
                        available.join(", ")
                    ),
                });
            }
        }
        let requested: HashSet<&str> = outputs.iter().copied().collect();

        // backwards: which columns are needed, and how often each is read (and where). The
        // input columns the pipeline keeps are needed too: a select step must keep passing
        // them through.
        let mut requested: HashSet<&str> = requested;
        requested.extend(
            self.input
                .fields()
                .iter()
                .filter(|f| self.output.field_with_unqualified_name(f.name()).is_ok())
                .map(|f| f.name().as_str()),
        );
        let mut needed: HashSet<String> = requested.iter().map(|s| s.to_string()).collect();
        let mut kept: Vec<(usize, Step)> = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().rev() {
            match step {
                // a select step is always kept (it removes columns), with its needed columns
                Step::Select { columns, .. } => {
                    let live: Vec<(String, Expr)> = columns
                        .iter()
                        .filter(|(n, _)| needed.contains(n))
                        .cloned()
                        .collect();
                    for (_, e) in &live {
                        visit_columns(e, &mut |c| {
                            needed.insert(c.to_string());
                        });
                    }
                    kept.push((*i, step.with_columns(live)));
                }
                Step::Project { columns, .. } => {
                    let live: Vec<(String, Expr)> = columns
                        .iter()
                        .filter(|(n, _)| needed.contains(n))
                        .cloned()
                        .collect();
                    for (_, e) in &live {
                        visit_columns(e, &mut |c| {
                            needed.insert(c.to_string());
                        });
                    }
                    if !live.is_empty() {
                        kept.push((*i, step.with_columns(live)));
                    }
                }
                Step::Filter { predicate, .. } => {
                    visit_columns(predicate, &mut |c| {
                        needed.insert(c.to_string());
                    });
                    kept.push((*i, step.clone()));
                }
            }
        }
        kept.reverse();

        // forwards: count reads per column, by stretch between filters
        let mut defined_in: HashMap<&str, usize> = HashMap::new();
        let mut reads: HashMap<&str, (usize, usize)> = HashMap::new(); // (count, stretch)
        let mut stretch = 0;
        for (_, step) in &kept {
            let mut read = |c| {
                let (k, _) = reads.get(c).copied().unwrap_or((0, stretch));
                // a read from another stretch than the definition prevents fusion
                let at = if k == 0 { stretch } else { usize::MAX };
                reads.insert(c, (k + 1, at));
            };
            match step {
                Step::Project { columns, .. } | Step::Select { columns, .. } => {
                    for (_, e) in columns {
                        visit_columns(e, &mut read);
                    }
                    // a select keeping a column as it is passes it on: not a definition
                    for (n, e) in columns {
                        if !matches!(e, Expr::Column(c) if &c.name == n) {
                            defined_in.insert(n.as_str(), stretch);
                        }
                    }
                }
                Step::Filter { predicate, .. } => {
                    visit_columns(predicate, &mut read);
                    stretch += 1;
                }
            }
        }
        let fusible = |name: &str| {
            !requested.contains(name)
                && matches!(
                    (reads.get(name), defined_in.get(name)),
                    (Some((1, at)), Some(def)) if at == def
                )
        };

        // forwards again: substitute, then re-type every remaining step
        let mut inline: HashMap<String, Expr> = HashMap::new();
        let mut schema = Arc::clone(&self.input);
        let mut steps = Vec::with_capacity(kept.len());
        for (i, step) in &kept {
            match step {
                Step::Project { columns, .. } => {
                    let mut emitted = Vec::with_capacity(columns.len());
                    for (name, e) in columns {
                        let e = substitute(e.clone(), &inline)?;
                        if fusible(name) {
                            inline.insert(name.clone(), e);
                        } else {
                            emitted.push((name.clone(), e));
                        }
                    }
                    if emitted.is_empty() {
                        continue;
                    }
                    schema = push_project(&mut steps, *i, &schema, emitted)?;
                }
                Step::Select { columns, .. } => {
                    // emitted even when empty: the columns it removes must stay removed
                    let mut emitted = Vec::with_capacity(columns.len());
                    for (name, e) in columns {
                        let e = substitute(e.clone(), &inline)?;
                        if fusible(name) {
                            inline.insert(name.clone(), e);
                        } else {
                            emitted.push((name.clone(), e));
                        }
                    }
                    schema = push_select(&mut steps, *i, &schema, emitted)?;
                }
                Step::Filter { predicate, .. } => {
                    let predicate = substitute(predicate.clone(), &inline)?;
                    steps.push((
                        *i,
                        Step::Filter {
                            input: Arc::clone(&schema),
                            predicate,
                        },
                    ));
                }
            }
        }
        Ok(PipelineSteps {
            input: Arc::clone(&self.input),
            output: schema,
            steps,
        })
    }
}

impl Step {
    fn with_columns(&self, columns: Vec<(String, Expr)>) -> Step {
        match self {
            Step::Project { input, output, .. } => Step::Project {
                input: Arc::clone(input),
                output: Arc::clone(output),
                columns,
            },
            Step::Select { input, output, .. } => Step::Select {
                input: Arc::clone(input),
                output: Arc::clone(output),
                columns,
            },
            Step::Filter { .. } => self.clone(),
        }
    }
}

/// Calls `f` with the name of every column `e` reads (once per read).
fn visit_columns<'a>(e: &'a Expr, f: &mut impl FnMut(&'a str)) {
    let _ = e.apply(|node| {
        if let Expr::Column(c) = node {
            f(c.name.as_str());
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

/// Replaces every read of a column in `inline` by its expression.
fn substitute(e: Expr, inline: &HashMap<String, Expr>) -> Result<Expr> {
    if inline.is_empty() {
        return Ok(e);
    }
    Ok(e.transform_up(|node| match &node {
        Expr::Column(c) => match inline.get(&c.name) {
            Some(replacement) => Ok(Transformed::yes(replacement.clone())),
            None => Ok(Transformed::no(node)),
        },
        _ => Ok(Transformed::no(node)),
    })?
    .data)
}

fn empty(schema: &DFSchemaRef) -> LogicalPlan {
    LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: Arc::clone(schema),
    })
}

fn all_columns(schema: &DFSchema) -> Vec<Expr> {
    schema
        .iter()
        .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
        .collect()
}

/// The projection of `plan` that appends `columns`, with `output` (from [`appended`]) as its
/// schema.
fn project(
    plan: LogicalPlan,
    columns: &[(String, Expr)],
    output: &DFSchemaRef,
) -> datafusion::error::Result<LogicalPlan> {
    let mut exprs = all_columns(plan.schema());
    exprs.extend(columns.iter().map(|(n, e)| e.clone().alias(n)));
    Ok(LogicalPlan::Projection(Projection::try_new_with_schema(
        exprs,
        Arc::new(plan),
        Arc::clone(output),
    )?))
}

/// The projection of `plan` onto exactly `columns`, with `output` (from [`selected`]) as its
/// schema.
fn select(
    plan: LogicalPlan,
    columns: &[(String, Expr)],
    output: &DFSchemaRef,
) -> datafusion::error::Result<LogicalPlan> {
    let exprs = columns
        .iter()
        .map(|(n, e)| match e {
            Expr::Column(c) if &c.name == n => e.clone(),
            _ => e.clone().alias(n),
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new_with_schema(
        exprs,
        Arc::new(plan),
        Arc::clone(output),
    )?))
}

/// The schema after appending `columns` to `schema`, each new column type-checked against
/// `schema` (DataFusion's `to_field`, which resolves every UDF's return field).
///
/// This is what `LogicalPlanBuilder::project` computes for the same projection, in time linear
/// in the number of columns: the builder normalises and re-types every one of the kept input
/// columns by a linear name lookup, which made a request schema of n extra columns cost
/// O(n²) per step (16,000 columns took 20 s).
fn appended(
    schema: &DFSchemaRef,
    columns: &[(String, Expr)],
) -> datafusion::error::Result<DFSchemaRef> {
    let mut fields: Vec<(Option<TableReference>, FieldRef)> = schema
        .iter()
        .map(|(q, f)| (q.cloned(), Arc::clone(f)))
        .collect();
    for (name, e) in columns {
        let (_, field) = e.clone().alias(name).to_field(schema.as_ref())?;
        fields.push((None, field));
    }
    // every input column stays at its index, so the input's dependencies still hold
    let out = DFSchema::new_with_metadata(fields, schema.metadata().clone())?
        .with_functional_dependencies(schema.functional_dependencies().clone())?;
    Ok(Arc::new(out))
}

/// Type-checks a projection appending `columns` to `schema`, records it as a step of stage
/// `stage`, and returns the schema after it.
fn push_project(
    steps: &mut Vec<(usize, Step)>,
    stage: usize,
    schema: &DFSchemaRef,
    columns: Vec<(String, Expr)>,
) -> datafusion::error::Result<DFSchemaRef> {
    let output = appended(schema, &columns)?;
    steps.push((
        stage,
        Step::Project {
            input: Arc::clone(schema),
            output: Arc::clone(&output),
            columns,
        },
    ));
    Ok(output)
}

/// The schema made of exactly `columns`, each type-checked against `schema`; a plain reference
/// to a column of `schema` under its own name keeps that column's field (and qualifier).
fn selected(
    schema: &DFSchemaRef,
    columns: &[(String, Expr)],
) -> datafusion::error::Result<DFSchemaRef> {
    let mut fields: Vec<(Option<TableReference>, FieldRef)> = Vec::with_capacity(columns.len());
    for (name, e) in columns {
        if let Expr::Column(c) = e
            && &c.name == name
            && let Ok((q, f)) = schema.qualified_field_with_name(c.relation.as_ref(), &c.name)
        {
            fields.push((q.cloned(), Arc::clone(f)));
            continue;
        }
        let (_, field) = e.clone().alias(name).to_field(schema.as_ref())?;
        fields.push((None, field));
    }
    Ok(Arc::new(DFSchema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )?))
}

/// Type-checks a select of `columns` over `schema`, records it as a step of stage `stage`,
/// and returns the schema after it.
fn push_select(
    steps: &mut Vec<(usize, Step)>,
    stage: usize,
    schema: &DFSchemaRef,
    columns: Vec<(String, Expr)>,
) -> datafusion::error::Result<DFSchemaRef> {
    let output = selected(schema, &columns)?;
    steps.push((
        stage,
        Step::Select {
            input: Arc::clone(schema),
            output: Arc::clone(&output),
            columns,
        },
    ));
    Ok(output)
}

/// The select lowering a plan's `replace` and `drop` over `schema`: every column in order,
/// replaced ones computed in place, dropped ones left out.
fn replace_and_drop(
    stage: &dyn Stage,
    schema: &DFSchema,
    replace: Vec<(String, Expr)>,
    drop: &[String],
) -> Result<Vec<(String, Expr)>> {
    let mut replace: Vec<(String, Option<Expr>)> =
        replace.into_iter().map(|(n, e)| (n, Some(e))).collect();
    let resolved = |name: &str, what: &str| -> Result<String> {
        crate::stage::resolve_column(schema, name)
            .map(|(c, _)| c.name)
            .ok_or_else(|| ctx_error(stage, name, &format!("no such column to {what}")))
    };
    for (name, _) in replace.iter_mut() {
        *name = resolved(name, "replace")?;
    }
    let drop: Vec<String> = drop
        .iter()
        .map(|n| resolved(n, "drop"))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(schema.fields().len());
    for (q, f) in schema.iter() {
        if drop.contains(f.name()) {
            continue;
        }
        let e = match replace.iter_mut().find(|(n, _)| n == f.name()) {
            Some((_, e)) => e
                .take()
                .ok_or_else(|| ctx_error(stage, f.name(), "replaced twice"))?,
            None => Expr::Column(Column::new(q.cloned(), f.name())),
        };
        out.push((f.name().clone(), e));
    }
    Ok(out)
}

/// Compiles `stages` against `input`.
pub fn plan_steps(stages: &[Arc<dyn Stage>], input: DFSchemaRef) -> Result<PipelineSteps> {
    let mut schema = Arc::clone(&input);
    let mut produced: HashMap<String, ColumnSpec> = HashMap::new();
    let mut steps = Vec::new();
    for (i, stage) in stages.iter().enumerate() {
        let ctx = StageContext {
            schema: &schema,
            produced: &produced,
            uid: stage.uid(),
            class: stage.class(),
        };
        let plan = stage.compile(&ctx)?;
        let compile_err =
            |column: &str, e: datafusion::error::DataFusionError| EmberError::Compile {
                uid: stage.uid().to_string(),
                class: stage.class().to_string(),
                column: column.to_string(),
                message: e.strip_backtrace(),
            };
        for layer in plan.layers {
            for (name, _) in &layer {
                if schema.fields().iter().any(|f| f.name() == name) {
                    return Err(ctx_error(
                        stage.as_ref(),
                        name,
                        "output column already exists",
                    ));
                }
            }
            let first = layer.first().map(|(n, _)| n.clone()).unwrap_or_default();
            schema =
                push_project(&mut steps, i, &schema, layer).map_err(|e| compile_err(&first, e))?;
        }
        if let Some(predicate) = plan.filter {
            LogicalPlanBuilder::from(empty(&schema))
                .filter(predicate.clone())
                .and_then(|b| b.build())
                .map_err(|e| compile_err("", e))?;
            steps.push((
                i,
                Step::Filter {
                    input: Arc::clone(&schema),
                    predicate,
                },
            ));
        }
        if !plan.replace.is_empty() || !plan.drop.is_empty() {
            let columns = replace_and_drop(stage.as_ref(), &schema, plan.replace, &plan.drop)?;
            let first = columns.first().map(|(n, _)| n.clone()).unwrap_or_default();
            schema =
                push_select(&mut steps, i, &schema, columns).map_err(|e| compile_err(&first, e))?;
        }
        if let Some(mut columns) = plan.select {
            let mut seen = HashSet::new();
            for (name, _) in &columns {
                if !seen.insert(name.clone()) {
                    return Err(ctx_error(stage.as_ref(), name, "selected twice"));
                }
            }
            // ember's internal columns (the row number of `ember score`) survive any select
            for f in schema.fields() {
                if f.name().starts_with(INTERNAL_COLUMN_PREFIX) && !seen.contains(f.name()) {
                    columns.push((f.name().clone(), Expr::Column(Column::from_name(f.name()))));
                }
            }
            let first = columns.first().map(|(n, _)| n.clone()).unwrap_or_default();
            schema =
                push_select(&mut steps, i, &schema, columns).map_err(|e| compile_err(&first, e))?;
        }
        let lookup = |n: &str| produced.get(n).cloned();
        let outputs = stage.outputs(&lookup);
        for o in outputs {
            produced.insert(o.name.clone(), o);
        }
        // metadata only for the columns that are still there
        produced.retain(|n, _| schema.field_with_unqualified_name(n).is_ok());
    }
    Ok(PipelineSteps {
        input,
        output: schema,
        steps,
    })
}

fn ctx_error(stage: &dyn Stage, column: &str, message: &str) -> EmberError {
    EmberError::Compile {
        uid: stage.uid().to_string(),
        class: stage.class().to_string(),
        column: column.to_string(),
        message: message.to_string(),
    }
}

/// Applies compiled steps on top of `plan` (whose schema must be the one they were compiled for).
pub fn apply_steps(plan: LogicalPlan, steps: &PipelineSteps) -> Result<LogicalPlan> {
    let mut plan = plan;
    for (_, step) in &steps.steps {
        plan = match step {
            Step::Project {
                columns, output, ..
            } => project(plan, columns, output)?,
            Step::Select {
                columns, output, ..
            } => select(plan, columns, output)?,
            Step::Filter { predicate, .. } => LogicalPlanBuilder::from(plan)
                .filter(predicate.clone())?
                .build()?,
        };
    }
    Ok(plan)
}

enum PhysicalStep {
    Project {
        exprs: Vec<Arc<dyn PhysicalExpr>>,
        output: SchemaRef,
    },
    Select {
        exprs: Vec<Arc<dyn PhysicalExpr>>,
        output: SchemaRef,
    },
    Filter {
        predicate: Arc<dyn PhysicalExpr>,
    },
}

/// A pipeline compiled for one input schema into physical expressions, evaluated directly on
/// record batches: no planning per call. Build with [`crate::Pipeline::compile`].
pub struct CompiledPipeline {
    input: SchemaRef,
    output: SchemaRef,
    steps: Vec<PhysicalStep>,
    stage_of_step: Vec<(String, String)>,
    /// When only some columns were asked for: their indices in the last step's batch.
    select: Option<Vec<usize>>,
}

impl std::fmt::Debug for CompiledPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPipeline")
            .field("input", &self.input)
            .field("output", &self.output)
            .field("steps", &self.steps.len())
            .finish()
    }
}

impl CompiledPipeline {
    pub(crate) fn new(stages: &[Arc<dyn Stage>], steps: &PipelineSteps) -> Result<Self> {
        let props = ExecutionProps::new();
        let mut out = Vec::with_capacity(steps.steps.len());
        let mut stage_of_step = Vec::with_capacity(steps.steps.len());
        for (i, step) in &steps.steps {
            let stage = &stages[*i];
            stage_of_step.push((stage.uid().to_string(), stage.class().to_string()));
            let physical = |e: &Expr, schema: &DFSchema| {
                create_physical_expr(e, schema, &props, &PhysicalPlanningContext::default())
                    .map_err(|err| EmberError::Compile {
                        uid: stage.uid().to_string(),
                        class: stage.class().to_string(),
                        column: String::new(),
                        message: err.strip_backtrace(),
                    })
            };
            out.push(match step {
                Step::Project {
                    input,
                    output,
                    columns,
                } => PhysicalStep::Project {
                    exprs: columns
                        .iter()
                        .map(|(_, e)| physical(e, input))
                        .collect::<Result<_>>()?,
                    output: Arc::new(output.as_arrow().clone()),
                },
                Step::Select {
                    input,
                    output,
                    columns,
                } => PhysicalStep::Select {
                    exprs: columns
                        .iter()
                        .map(|(_, e)| physical(e, input))
                        .collect::<Result<_>>()?,
                    output: Arc::new(output.as_arrow().clone()),
                },
                Step::Filter { input, predicate } => PhysicalStep::Filter {
                    predicate: physical(predicate, input)?,
                },
            });
        }
        Ok(Self {
            input: Arc::new(steps.input.as_arrow().clone()),
            output: Arc::new(steps.output.as_arrow().clone()),
            steps: out,
            stage_of_step,
            select: None,
        })
    }

    /// Like [`CompiledPipeline::new`] for `steps` pruned and fused by
    /// [`PipelineSteps::for_outputs`]: the output is the input columns the pipeline keeps (all
    /// of them unless a stage drops some) followed by `outputs` (in that order; a requested
    /// input column is not repeated).
    pub(crate) fn selecting(
        stages: &[Arc<dyn Stage>],
        steps: &PipelineSteps,
        outputs: &[&str],
    ) -> Result<Self> {
        let mut compiled = Self::new(stages, steps)?;
        let last = Arc::clone(&compiled.output);
        let mut select: Vec<usize> = compiled
            .input
            .fields()
            .iter()
            .filter_map(|f| last.index_of(f.name()).ok())
            .collect();
        for name in outputs {
            let i = last.index_of(name)?;
            if !select.contains(&i) {
                select.push(i);
            }
        }
        compiled.output = Arc::new(last.project(&select)?);
        compiled.select = Some(select);
        Ok(compiled)
    }

    /// The input schema this was compiled for.
    pub fn input_schema(&self) -> &SchemaRef {
        &self.input
    }

    /// The output schema: the input columns followed by every stage's outputs.
    pub fn output_schema(&self) -> &SchemaRef {
        &self.output
    }

    /// Transforms `batch`, which must have the input schema's column names and types. Rows a
    /// stage drops (`handleInvalid = skip`) are absent from the result; a row a stage rejects
    /// fails the call with [`EmberError::Row`] naming the row's index in `batch`.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        self.evaluate_rows(batch).map(|(out, _)| out)
    }

    /// Like [`CompiledPipeline::evaluate`], also returning, when a stage dropped rows
    /// (`handleInvalid = skip`), the input index of each output row.
    pub fn evaluate_rows(&self, batch: &RecordBatch) -> Result<(RecordBatch, Option<Vec<usize>>)> {
        let given = batch.schema();
        if given.fields().len() != self.input.fields().len()
            || given
                .fields()
                .iter()
                .zip(self.input.fields())
                .any(|(a, b)| a.name() != b.name() || a.data_type() != b.data_type())
        {
            return Err(EmberError::Data {
                context: "transform".into(),
                message: format!(
                    "batch schema {given:?} differs from the compiled input schema {:?}",
                    self.input
                ),
            });
        }
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        let mut cur = RecordBatch::try_new_with_options(
            Arc::clone(&self.input),
            batch.columns().to_vec(),
            &options,
        )?;
        // original row index of each surviving row, once a filter has dropped some
        let mut rows: Option<Vec<usize>> = None;
        for (k, step) in self.steps.iter().enumerate() {
            match step {
                PhysicalStep::Project { exprs, output } => {
                    let n = cur.num_rows();
                    let mut cols = cur.columns().to_vec();
                    for e in exprs {
                        let v = e
                            .evaluate(&cur)
                            .and_then(|v| v.into_array(n))
                            .map_err(|err| self.locate(err, rows.as_deref(), k))?;
                        cols.push(v);
                    }
                    let options = RecordBatchOptions::new().with_row_count(Some(n));
                    cur = RecordBatch::try_new_with_options(Arc::clone(output), cols, &options)?;
                }
                PhysicalStep::Select { exprs, output } => {
                    let n = cur.num_rows();
                    let cols = exprs
                        .iter()
                        .map(|e| e.evaluate(&cur).and_then(|v| v.into_array(n)))
                        .collect::<datafusion::error::Result<Vec<_>>>()
                        .map_err(|err| self.locate(err, rows.as_deref(), k))?;
                    let options = RecordBatchOptions::new().with_row_count(Some(n));
                    cur = RecordBatch::try_new_with_options(Arc::clone(output), cols, &options)?;
                }
                PhysicalStep::Filter { predicate } => {
                    let mask = predicate
                        .evaluate(&cur)
                        .and_then(|v| v.into_array(cur.num_rows()))
                        .map_err(|err| self.locate(err, rows.as_deref(), k))?;
                    let mask = mask.as_boolean();
                    if mask.true_count() == cur.num_rows() {
                        continue;
                    }
                    let kept: Vec<usize> = (0..cur.num_rows())
                        .filter(|i| mask.is_valid(*i) && mask.value(*i))
                        .map(|i| rows.as_ref().map_or(i, |r| r[i]))
                        .collect();
                    rows = Some(kept);
                    cur = filter_record_batch(&cur, mask)?;
                }
            }
        }
        if let Some(select) = &self.select {
            let options = RecordBatchOptions::new().with_row_count(Some(cur.num_rows()));
            let cols = select.iter().map(|i| Arc::clone(cur.column(*i))).collect();
            cur = RecordBatch::try_new_with_options(Arc::clone(&self.output), cols, &options)?;
        }
        Ok((cur, rows))
    }

    fn locate(
        &self,
        err: datafusion::error::DataFusionError,
        rows: Option<&[usize]>,
        step: usize,
    ) -> EmberError {
        match StageError::find(&err) {
            Some(se) => EmberError::Row {
                row: rows.and_then(|r| r.get(se.row).copied()).unwrap_or(se.row),
                source: se.clone(),
            },
            None => {
                let (uid, class) = &self.stage_of_step[step];
                EmberError::Compile {
                    uid: uid.clone(),
                    class: short_class(class).to_string(),
                    column: String::new(),
                    message: err.strip_backtrace(),
                }
            }
        }
    }
}

/// A schema made of the given Arrow schema, unqualified.
pub fn df_schema(schema: &Schema) -> Result<DFSchemaRef> {
    Ok(Arc::new(DFSchema::try_from(schema.clone())?))
}
